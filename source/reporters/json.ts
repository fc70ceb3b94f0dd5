import type {Io} from '../commands/command.js';
import type {Reporter} from './plain.js';

/**
 * `--json`: every build event as one JSON line on stdout, nothing else there. The last line is the
 * `finish` event, which carries the whole build result (the content of build-result.json).
 */
export function jsonReporter(io: Io): Reporter {
	return {
		event(event) {
			io.stdout(`${JSON.stringify(event)}\n`);
		},
	};
}
