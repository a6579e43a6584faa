"""The app's helpers that are no business rule: charts of a plan (`charts`) and what-if
scenarios as planners edit, save and compare them (`scenarios`)."""
