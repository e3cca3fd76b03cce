// hush's version: `hush --version` and the manager's status. Kept apart so that the CLI's start-up
// loads no manager module to print it.
export const VERSION = '0.1.0';
