"""The app's pages, one file each, each with a `render()`; `app.py` lists them by role.

Pages lay out components (`app_ui.components`) and words (`app_ui.labels`); figures and
rules come from the domain packages (`optimizer`, `pools`) and `app_ui.scenarios`."""
