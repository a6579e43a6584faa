"""What the app's pages share: words (`labels`), settings (`config`), sign-in, the what-if
session, ledger access, the saved-scenario store and charts, and the page components
(`app_ui.components`). Streamlit only where something is shown; no business rule here."""
