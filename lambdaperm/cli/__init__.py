"""The `lambdaperm` command: one module per subcommand."""
