import type {ParseArgsConfig} from 'node:util';

/** Where a command writes: stdout for results, stderr for progress and errors. */
export type Io = {stdout: (text: string) => void; stderr: (text: string) => void};

export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

/** One subcommand: its own flags and a runner that returns the exit code. */
export type Command = {
	options: NonNullable<ParseArgsConfig['options']>;
	run: (values: ParsedValues, positionals: string[], io: Io, signal: AbortSignal) => Promise<number>;
};

/** Flags every command that reads catalogs accepts. */
export const catalogOptions = {
	catalog: {type: 'string', multiple: true},
	'no-bundled': {type: 'boolean'},
} as const;
