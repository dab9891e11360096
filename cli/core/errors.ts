// Exit codes of `claw` (documented in README "CLI") and the one error type commands throw.
// A CliError is printed as one line (message + what to do next); --json prints it as JSON.
export const EXIT = {
  ok: 0,
  /** Unexpected failure (a bug, or an API error that fits no other code). */
  failure: 1,
  /** Bad input: flags, files, config values (caught locally or refused by the API as 400/413/415/422). */
  usage: 2,
  /** No API key, or the API refused it (401/403). */
  auth: 3,
  /** The named tenant or key does not exist in your account (404). */
  notFound: 4,
  /** Conflict: the slug belongs to someone else, a different resource type, a concurrent update (409). */
  conflict: 5,
  /** The API (or Cloudflare) could not be reached, or answered 5xx / 429: retry later. */
  unavailable: 6,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly code: string;
  readonly details?: unknown;
  constructor(message: string, exitCode: ExitCode = EXIT.failure, code = "cli_error", details?: unknown) {
    super(message);
    this.exitCode = exitCode;
    this.code = code;
    this.details = details;
  }
}

export function usageError(message: string, code = "invalid_input"): CliError {
  return new CliError(message, EXIT.usage, code);
}
