// The baseline of the CLI start-up benchmark: Deno starting a script that does nothing.
