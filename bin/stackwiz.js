#!/usr/bin/env node
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

/**
 * Ends the process now, for a second signal or a command that did not stop within 3 s. `process.exit`
 * is not enough: it waits for file system calls that hang (a catalog on a dead network mount), so the
 * exit handlers run by hand (they kill bake's process group and restore the terminal), and the signal
 * is raised again with its default action: the shell sees 130 for SIGINT, 143 for SIGTERM.
 */
function exitNow(signal, why) {
	process.stderr.write(`stackwiz: interrupted (${why}).\n`);
	process.emit('exit', interrupted);
	process.removeAllListeners('SIGINT');
	process.removeAllListeners('SIGTERM');
	process.kill(process.pid, signal);
}

// Ctrl-C or SIGTERM aborts the running command, which stops its docker processes and returns 130.
// A second signal, or a command that does not return within 3 s, ends it at once. The handlers are
// installed before the CLI is loaded, so a signal during start-up is an interruption, not a crash.
const controller = new AbortController();
const onSignal = signal => {
	if (controller.signal.aborted) {
		exitNow(signal, `second ${signal}`);
		return;
	}

	controller.abort(new Error(`received ${signal}`));
	setTimeout(() => exitNow(signal, `still running 3 s after ${signal}`), 3000).unref();
};

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// Also on a crash or a forced exit: raw mode off and the cursor back.
process.on('exit', restoreTerminal);

const {run} = await import('../dist/bundle/cli.js');
const code = await run(
	process.argv.slice(2),
	{
		stdout: text => process.stdout.write(text),
		stderr: text => process.stderr.write(text),
	},
	controller.signal,
);
process.exitCode = controller.signal.aborted ? interrupted : code;
