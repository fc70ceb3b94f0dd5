import {Box, Text} from 'ink';
import type {TierTree as Tree} from '../../core/tier-tree.js';
import {describeTier, treeRows} from '../../core/tree-layout.js';
import type {PlanPreview} from '../../core/wizard-state.js';
import {useTheme} from '../theme.js';

/** What the registry look-up says about one tier's tag. */
export type TierPresence = 'present' | 'absent' | 'unknown' | 'checking';

export type TierRowsProps = {
	tree: Pick<Tree, 'nodes'>;
	/** Lines the rows may use; the rest is summarised as "+N more tiers". */
	maxRows: number;
	/**
	 * Tags in the review: `full` draws each tier's whole tag on a second line; `short` puts the
	 * tag's version part (after "<registry>/stackwiz/<tier>:") in place of the contents.
	 */
	tags?: 'full' | 'short';
	/** Tier id -> registry presence, drawn after the tier. */
	presence?: ReadonlyMap<string, TierPresence>;
};

const presenceWords: Record<TierPresence, string> = {
	present: 'in registry, reused',
	absent: 'to build',
	unknown: 'registry not checked',
	checking: 'checking registry…',
};

/** The rows of core's treeRows, drawn as they come: glyphs, tier, contents, image name. */
export function TierRows({tree, maxRows, tags, presence}: TierRowsProps) {
	const theme = useTheme();
	const rows = treeRows(tree);
	const width = Math.max(...rows.map(row => row.prefix.length + row.node.tier.length));
	const perRow = tags === 'full' ? 2 : 1;
	const fits = Math.max(1, Math.floor(maxRows / perRow));
	const shown = rows.length > fits ? rows.slice(0, Math.max(1, fits - 1)) : rows;
	return (
		<Box flexDirection="column">
			{shown.map(({node, prefix}) => {
				const state = presence?.get(node.id);
				return (
					<Box key={node.id} flexDirection="column">
						<Text wrap="truncate-end">
							<Text {...theme.tone('muted')}>{prefix}</Text>
							<Text {...theme.tone('accent')}>{node.tier.padEnd(width - prefix.length)}</Text>
							{tags === 'short' ? `  ${node.ref.slice(node.ref.indexOf(':') + 1)}` : `  ${describeTier(node, 3)}`}
							{node.image ? <Text {...theme.tone('muted')}>{`  ← ${node.image}`}</Text> : null}
							{state ? <Text {...(state === 'present' ? theme.tone('success') : theme.tone('muted'))}>{`  [${presenceWords[state]}]`}</Text> : null}
						</Text>
						{tags === 'full' ? <Text wrap="truncate-middle" {...theme.tone('muted')}>{`    ${node.tag}`}</Text> : null}
					</Box>
				);
			})}
			{shown.length < rows.length ? <Text {...theme.tone('muted')}>{`… +${rows.length - shown.length} more tiers`}</Text> : null}
		</Box>
	);
}

export type TierTreePanelProps = {
	preview: PlanPreview;
	/** The tree shown is the last one; the new answers are being planned. */
	pending?: boolean;
	maxRows: number;
};

/** The live panel: the tree the current answers produce, or why they produce none. */
export function TierTreePanel({preview, pending = false, maxRows}: TierTreePanelProps) {
	const theme = useTheme();
	if (!preview.ok) {
		return (
			<Box flexDirection="column">
				<Text {...theme.tone('heading')}>Tier tree{pending ? ' …' : ''}</Text>
				<Text wrap="truncate-end" {...theme.tone('warning')}>{preview.message.split('\n')[0]}</Text>
			</Box>
		);
	}

	const {tree} = preview.plan;
	const images = tree.images.length;
	return (
		<Box flexDirection="column">
			<Text wrap="truncate-end">
				<Text {...theme.tone('heading')}>Tier tree</Text>
				<Text {...theme.tone('muted')}>{`  ${tree.nodes.length} tiers, ${images} image${images === 1 ? '' : 's'}${pending ? '  …' : ''}`}</Text>
			</Text>
			<TierRows tree={tree} maxRows={Math.max(1, maxRows - 1)}/>
		</Box>
	);
}
