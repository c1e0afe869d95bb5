"""Accounts: NativeAuthenticator subclass and its JupyterHub 6 compatibility."""
