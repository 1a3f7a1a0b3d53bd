// The signal numbers the scheduler uses by name (Linux).
export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGKILL = 9;
export const SIGPIPE = 13;
export const SIGTERM = 15;
export const SIGCONT = 18;
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;
/** _NSIG on Linux: valid signals are 1..64 */
export const NSIG = 65;
