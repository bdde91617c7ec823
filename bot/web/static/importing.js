// While a catalogue file uploads and imports, say so and keep the button from a second press.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.action.indexOf("/catalogue/import") < 0) return;
  const note = document.querySelector("p.importing");
  if (note) note.hidden = false;
  for (const button of form.querySelectorAll("button")) button.disabled = true;
});

// The chosen files' names beside the button (the native control's text is hidden).
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file") return;
  const shown = input.closest("form").querySelector(".chosen");
  if (!shown) return;
  const names = Array.from(input.files).map((file) => file.name);
  shown.textContent = names.length ? names.join("、") : shown.dataset.none;
});
