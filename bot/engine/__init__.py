"""The engine: one post's resumable publish, the loop that claims due work, schedules that
open slots, drafting posts for columns."""
