"""pyinfra deploys for the portal and one-stop servers."""
