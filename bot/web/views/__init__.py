"""The admin's pages: handlers that parse, call one service and render a template."""
