#!/usr/bin/env node
import {run} from '../dist/cli.js';

const interrupted = 130;

/** Leaves the terminal as it was found: cooked mode, cursor visible. */
function restoreTerminal() {
	if (process.stdin.isTTY && process.stdin.isRaw) {
		process.stdin.setRawMode(false);
	}

	if (process.stderr.isTTY) {
		process.stderr.write('\u001B[?25h');
	}
}

// Ctrl-C or SIGTERM aborts the running command, which stops its docker processes and returns.
// A second signal, or a command that does not return within 3 s, exits at once.
const controller = new AbortController();
const onSignal = signal => {
	if (controller.signal.aborted) {
		restoreTerminal();
		process.exit(interrupted);
	}

	controller.abort(new Error(`received ${signal}`));
	setTimeout(() => {
		restoreTerminal();
		process.exit(interrupted);
	}, 3000).unref();
};

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const code = await run(
	process.argv.slice(2),
	{
		stdout: text => process.stdout.write(text),
		stderr: text => process.stderr.write(text),
	},
	controller.signal,
);
restoreTerminal();
process.exitCode = controller.signal.aborted ? interrupted : code;
