// While a catalogue file uploads and imports, say so and keep the button from a second press.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.action.indexOf("/catalogue/import") < 0) return;
  const note = document.querySelector("p.importing");
  if (note) note.hidden = false;
  for (const button of form.querySelectorAll("button")) button.disabled = true;
});
