/** The environment variable that carries the launch options to the trampoline (root-only /proc/PID/environ). */
export const SANDBOX_TERMINAL_OPTIONS_ENV = 'PADDOCK_SANDBOX_TERMINAL';
