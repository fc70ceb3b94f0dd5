import type {Io} from '../commands/command.js';
import {initialBuildState, reduceBuild, type BuildEvent, type BuildResult, type BuildState, type TierResult, type TierView} from '../core/build-events.js';

/** Consumes build events; the plain and JSON reporters and the Ink screen all take the same stream. */
export type Reporter = {event: (event: BuildEvent) => void};

/** Decimal units, as docker prints image sizes: 1.5 MB is 1 500 000 bytes. */
export function formatBytes(bytes: number): string {
	const units = ['B', 'kB', 'MB', 'GB', 'TB'];
	let value = bytes;
	let unit = 0;
	while (value >= 1000 && unit < units.length - 1) {
		value /= 1000;
		unit++;
	}

	return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
	if (ms < 60_000) {
		return `${(ms / 1000).toFixed(1)}s`;
	}

	const minutes = Math.floor(ms / 60_000);
	return `${minutes}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}

const shorten = (text: string, length: number) => (text.length > length ? `${text.slice(0, length - 1)}…` : text);

/** "built, pushed", "cached, pushed", "reused", "failed", ... */
export function stateLabel(tier: Pick<TierResult, 'state' | 'result'>): string {
	if (tier.state === 'pushed' || tier.state === 'pushing') {
		return `${tier.result ?? 'built'}, ${tier.state}`;
	}

	return tier.state;
}

function elapsed(tier: TierView, time: number): string {
	return tier.startedAt === null ? '' : `in ${formatDuration(time - tier.startedAt)}`;
}

/** The detail a state-change line carries for the tier's new phase. */
function detail(tier: TierView, event: BuildEvent): string {
	switch (tier.phase) {
		case 'queued': {
			return tier.tag;
		}

		case 'building': {
			const position = tier.index !== null && tier.total !== null ? ` (${tier.index}/${tier.total})` : '';
			return tier.step ? `${shorten(tier.step, 100)}${position}` : '';
		}

		case 'cached': {
			return 'every step from the build cache';
		}

		case 'built':
		case 'pushed': {
			return elapsed(tier, event.time);
		}

		case 'pushing': {
			return `to ${tier.tag}`;
		}

		case 'reused': {
			return `from the registry (${(tier.digest ?? '').slice(0, 19)})`;
		}

		case 'failed': {
			const tail = tier.logTail.map(line => `\n    | ${line}`).join('');
			return `${shorten((tier.reason ?? '').split('\n')[0]!, 300)}${tail}`;
		}

		case 'cancelled': {
			return tier.reason ?? '';
		}
	}
}

/** The result table, the images users run, and what sharing the tiers saved. */
export function formatSummary(result: BuildResult): string {
	const idWidth = Math.max(4, ...result.tiers.map(tier => tier.id.length));
	const stateWidth = Math.max(5, ...result.tiers.map(tier => stateLabel(tier).length));
	const sizeHeader = result.sizeKind === 'compressed' ? 'SIZE' : 'SIZE (uncompressed)';
	const sizeWidth = Math.max(sizeHeader.length, 9);
	const lines = [`${'TIER'.padEnd(idWidth)}  ${'STATE'.padEnd(stateWidth)}  ${sizeHeader.padEnd(sizeWidth)}  TIME`];
	for (const tier of result.tiers) {
		const size = tier.size === null ? '-' : formatBytes(tier.size);
		const time = tier.durationMs === null ? '-' : formatDuration(tier.durationMs);
		lines.push(`${tier.id.padEnd(idWidth)}  ${stateLabel(tier).padEnd(stateWidth)}  ${size.padEnd(sizeWidth)}  ${time}`);
	}

	if (result.images.length > 0) {
		lines.push('', 'images');
		const nameWidth = Math.max(...result.images.map(image => image.name.length));
		for (const image of result.images) {
			const pin = image.digest ? `@${image.digest}` : '';
			const size = image.size === null ? '' : `  ${formatBytes(image.size)}`;
			lines.push(`  ${image.name.padEnd(nameWidth)}  ${image.tag}${pin}${size}`);
		}
	}

	if (result.sharing && result.images.length > 1) {
		const {flatBytes, storedBytes, savedBytes} = result.sharing;
		lines.push('', `shared tiers: ${result.images.length} images take ${formatBytes(storedBytes)} as tiers instead of ${formatBytes(flatBytes)} built flat (${formatBytes(savedBytes)} saved)`);
		const first = result.images[0]!.name;
		for (const pull of result.pulls.filter(entry => entry.have === first)) {
			lines.push(`a node that holds ${pull.have} pulls ${formatBytes(pull.bytes)} of ${formatBytes(pull.wantBytes)} for ${pull.want}`);
		}
	}

	return `${lines.join('\n')}\n`;
}

/**
 * The reporter for CI, pipes and `--non-interactive`: one line per tier state change on stderr,
 * the summary on stdout, no colour and no cursor movement.
 */
export function plainReporter(io: Io): Reporter {
	let state: BuildState = initialBuildState;
	let width = 0;
	return {
		event(event) {
			const before = state;
			state = reduceBuild(state, event);
			switch (event.type) {
				case 'start': {
					width = Math.max(...event.tiers.map(tier => tier.id.length));
					const target = event.push ? `pushing to ${event.registry ?? ''}` : 'loading into the local image store';
					io.stderr(event.builder === null
						? `stackwiz: ${event.tiers.length} tiers, all already in ${event.registry ?? ''}: nothing to build\n`
						: `stackwiz: ${event.tiers.length} tiers with buildx ${event.buildx}, builder ${event.builder} (${event.driver} driver), ${target}\n`);
					return;
				}

				case 'warning': {
					io.stderr(`stackwiz: warning: ${event.message}\n`);
					return;
				}

				case 'finish': {
					if (event.result) {
						io.stdout(formatSummary(event.result));
					}

					if (event.message) {
						io.stderr(`stackwiz: ${event.message}\n`);
					}

					return;
				}

				case 'log': {
					return;
				}

				default: {
					const tier = state.tiers[event.tier];
					const previous = before.tiers[event.tier];
					const announce = event.type === 'queued' && previous?.phase === 'queued';
					if (tier && (announce || tier.phase !== previous?.phase)) {
						io.stderr(`${tier.id.padEnd(width)}  ${tier.phase.padEnd(9)}  ${detail(tier, event)}`.trimEnd() + '\n');
					}
				}
			}
		},
	};
}
