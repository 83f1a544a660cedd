// Paths and limits shared by the hook server, the hook client and the managed settings. The
// client is plain JavaScript (client.js) and repeats the values it needs; a test keeps them equal.

/** Where the launcher binds the hook server's socket inside the sandbox. */
export const HOOK_SOCKET_PATH = '/run/paddock/hook.sock';

/** Total time the hook client allows itself, from process start to answer (fails closed after). */
export const HOOK_CLIENT_TIMEOUT_MS = 2000;

/** Largest hook input (the harness's stdin JSON) the client forwards and the server reads. */
export const MAX_HOOK_INPUT_BYTES = 16 * 1024 * 1024;

/** The hook name in harness settings (Gemini CLI identifies hooks by name). */
export const HOOK_NAME = 'paddock-policy';
