/** The one map of exit codes every mode uses. */
export const exitCodes = {
	ok: 0,
	buildFailed: 1,
	badInput: 2,
	interrupted: 130,
} as const;

export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/**
 * A failure the user can fix: printed as its message (one or more positioned lines) and a hint,
 * never with a stack trace.
 */
export class UserError extends Error {
	constructor(
		message: string,
		readonly hint?: string,
		readonly exitCode: ExitCode = exitCodes.badInput,
	) {
		super(message);
		this.name = 'UserError';
	}
}

export function formatUserError(error: UserError): string {
	return error.hint ? `${error.message}\n${error.hint}` : error.message;
}
