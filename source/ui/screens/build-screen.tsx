import {Box, Static, Text} from 'ink';
import {useRef} from 'react';
import {isFinalPhase, type BuildState, type TierView} from '../../core/build-events.js';
import type {TierTree} from '../../core/tier-tree.js';
import {treeRows} from '../../core/tree-layout.js';
import {formatBytes, formatDuration} from '../../reporters/plain.js';
import {spinnerFrames} from '../hooks/use-ticker.js';
import {useTheme, type Theme} from '../theme.js';

export type BuildScreenProps = {
	state: BuildState;
	tree: TierTree;
	/** Milliseconds since the epoch, ticking while the build runs. */
	now: number;
	/** Spinner frame counter. */
	tick: number;
	/** Log lines shown per building tier, at most; fewer when the terminal is short. */
	tailLines: number;
	/** Terminal height: the live part must stay shorter, or Ink redraws the whole screen each frame. */
	rows?: number;
	/** Terminal width, to cut log lines. */
	columns: number;
	/** The stream broke before a finish event. */
	error?: Error;
	/** Lines under the summary: where the recipe and files are. (Commands to copy follow the last frame.) */
	footer: string[];
};

function phaseWords(tier: TierView, push: boolean): string {
	switch (tier.phase) {
		case 'queued': {
			return 'queued';
		}

		case 'building': {
			const step = tier.index !== null && tier.total !== null ? `step ${tier.index}/${tier.total}` : 'building';
			return tier.step ? `${step} ${tier.step}` : step;
		}

		case 'cached': {
			return push ? 'cached, waiting to push' : 'cached';
		}

		case 'built': {
			return push ? 'built, waiting to push' : 'built';
		}

		case 'pushing': {
			return tier.bytes && tier.bytes.total > 0 ? `pushing ${Math.min(100, Math.round(tier.bytes.current / tier.bytes.total * 100))}%` : 'pushing';
		}

		case 'pushed': {
			return tier.result === 'cached' ? 'cached, pushed' : 'pushed';
		}

		case 'reused': {
			return 'reused from registry';
		}

		case 'failed': {
			return `failed: ${tier.reason ?? 'see the log'}`;
		}

		case 'cancelled': {
			return 'cancelled';
		}
	}
}

function glyphFor(tier: TierView, push: boolean, theme: Theme, frame: string): {glyph: string; tone: ReturnType<Theme['tone']>} {
	const spinning = {glyph: frame, tone: theme.tone('accent')};
	const ok = {glyph: theme.glyph.ok, tone: theme.tone('success')};
	switch (tier.phase) {
		case 'failed': {
			return {glyph: theme.glyph.fail, tone: theme.tone('error')};
		}

		case 'cancelled': {
			return {glyph: theme.glyph.fail, tone: theme.tone('warning')};
		}

		case 'reused': {
			return {glyph: theme.glyph.reused, tone: theme.tone('success')};
		}

		case 'queued': {
			return {glyph: theme.glyph.dot, tone: theme.tone('muted')};
		}

		case 'building':
		case 'pushing': {
			return spinning;
		}

		case 'cached':
		case 'built': {
			return push ? spinning : ok;
		}

		case 'pushed': {
			return ok;
		}
	}
}

const elapsed = (tier: TierView, now: number) => (tier.startedAt === null ? '' : formatDuration((tier.finishedAt ?? now) - tier.startedAt));

/**
 * Step 6: one line per tier, drawn as the tree, with its state and elapsed time; the log tail of
 * the tiers building; finished tiers move to <Static>, above the live part, in the order they end.
 */
export function BuildScreen({state, tree, now, tick, tailLines, rows: terminalRows = 24, columns, error, footer}: BuildScreenProps) {
	const theme = useTheme();
	const rows = treeRows(tree);
	const prefixes = new Map(rows.map(row => [row.node.id, row.prefix]));
	const width = Math.max(...rows.map(row => row.prefix.length + row.node.tier.length));
	// Finished tiers move to <Static> in tree order: a tier goes once every row above it has, so the
	// printed glyphs still form the tree (a sibling that ends early waits, drawn with its ✓).
	const finished = useRef<string[]>([]);
	for (const {node} of rows) {
		const tier = state.tiers[node.id];
		if (!tier || !isFinalPhase(tier.phase, state.push)) {
			break;
		}

		if (!finished.current.includes(node.id)) {
			finished.current.push(node.id);
		}
	}

	const frame = spinnerFrames[tick % spinnerFrames.length]!;
	const line = (tier: TierView) => {
		const {glyph, tone} = glyphFor(tier, state.push, theme, frame);
		const prefix = prefixes.get(tier.id) ?? '';
		return (
			<Text key={tier.id} wrap="truncate-end">
				<Text {...tone}>{`${glyph} `}</Text>
				<Text {...theme.tone('muted')}>{prefix}</Text>
				<Text {...theme.tone('accent')}>{tier.tier.padEnd(width - prefix.length)}</Text>
				<Text {...theme.tone('muted')}>{`  ${elapsed(tier, now).padStart(6)}`}</Text>
				{`  ${phaseWords(tier, state.push)}`}
			</Text>
		);
	};

	const live = rows.map(row => row.node.id).filter(id => state.tiers[id] && !finished.current.includes(id)).map(id => state.tiers[id]!);
	const building = live.filter(tier => tier.phase === 'building' && tier.logTail.length > 0);
	const room = terminalRows - 3 - live.length;
	const perTier = building.length === 0 ? 0 : Math.max(0, Math.min(tailLines, Math.floor(room / building.length)));
	const done = state.status === 'done';
	const result = state.result;
	const counts = {built: 0, cached: 0, reused: 0, failed: 0};
	for (const tier of Object.values(state.tiers)) {
		if (tier.phase === 'failed') {
			counts.failed++;
		} else if (tier.result) {
			counts[tier.result]++;
		}
	}

	const failed = Object.values(state.tiers).filter(tier => tier.phase === 'failed');
	const cut = (text: string) => (text.length > columns - 6 ? `${text.slice(0, columns - 7)}…` : text);
	return (
		<Box flexDirection="column">
			<Static items={finished.current.map(id => state.tiers[id]!)}>
				{tier => line(tier)}
			</Static>
			{live.map(tier => line(tier))}
			{building.map(tier => (
				<Box key={`log-${tier.id}`} flexDirection="column">
					{(perTier === 0 ? [] : tier.logTail.slice(-perTier)).map((text, index) => (
						<Text key={`${tier.id}-${index}`} wrap="truncate-end" {...theme.tone('muted')}>{`    ${tier.tier} │ ${cut(text)}`}</Text>
					))}
				</Box>
			))}
			{done ? null : (
				<Text wrap="truncate-end" {...theme.tone('muted')}>
					{state.status === 'idle' ? 'starting docker buildx bake…' : `${Object.keys(state.tiers).length} tiers · ${formatDuration(now - (state.startedAt ?? now))}${state.push && state.registry ? ` · pushing to ${state.registry}` : ''} · Ctrl+C stops`}
				</Text>
			)}
			{done || error ? (
				<Box flexDirection="column" marginTop={1}>
					{state.outcome === 'ok'
						? <Text {...theme.tone('success')}>{`${theme.glyph.ok} ${state.order.length} tiers ready in ${formatDuration((state.finishedAt ?? now) - (state.startedAt ?? now))}: ${counts.built} built, ${counts.cached} cached, ${counts.reused} reused${state.push ? ', all pushed' : ''}`}</Text>
						: <Text {...theme.tone('error')}>{`${theme.glyph.fail} build ${state.outcome === 'cancelled' ? 'stopped' : 'failed'}${state.message ? `: ${state.message}` : error ? `: ${error.message}` : ''}`}</Text>}
					{failed.map(tier => (
						<Box key={`fail-${tier.id}`} flexDirection="column">
							<Text wrap="truncate-end" {...theme.tone('error')}>{`  ${tier.tier} ${tier.id}: ${tier.reason ?? 'failed'}`}</Text>
							{tier.logTail.slice(-8).map((text, index) => <Text key={`${tier.id}-f${index}`} wrap="truncate-end" {...theme.tone('muted')}>{`    │ ${cut(text)}`}</Text>)}
						</Box>
					))}
					{state.outcome !== 'ok' ? null : result?.images.map(image => (
						<Text key={`img-${image.name}`} wrap="truncate-middle">
							<Text {...theme.tone('heading')}>{image.name}</Text>
							<Text {...theme.tone('muted')}>{image.size === null ? '' : `  ${formatBytes(image.size)}`}</Text>
							{`  ${state.registry && image.tag.startsWith(`${state.registry}/`) ? image.tag.slice(state.registry.length + 1) : image.tag}`}
						</Text>
					))}
					{state.outcome === 'ok' && result?.sharing && result.sharing.savedBytes > 0 ? <Text>{`shared tiers save ${formatBytes(result.sharing.savedBytes)}: ${formatBytes(result.sharing.storedBytes)} stored instead of ${formatBytes(result.sharing.flatBytes)} as flat images`}</Text> : null}
					{footer.map(text => <Text key={text} wrap="truncate-end" {...theme.tone('muted')}>{text}</Text>)}
				</Box>
			) : null}
		</Box>
	);
}
