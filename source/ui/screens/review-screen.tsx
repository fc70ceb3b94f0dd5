import {Box, Text} from 'ink';
import type {ChoiceItem, OutputAnswers, PlanPreview, WizardOutcome} from '../../core/wizard-state.js';
import {SelectList} from '../components/select-list.js';
import {TierRows, type TierPresence} from '../components/tier-tree.js';
import {useBackKey} from '../hooks/use-back-key.js';
import {useTheme} from '../theme.js';
import type {StepProps} from './step-props.js';

export type ReviewScreenProps = StepProps & {
	preview: PlanPreview;
	output: OutputAnswers;
	/** Tier id -> whether its tag is already in the registry. */
	presence?: ReadonlyMap<string, TierPresence>;
	/** Something is at the recipe file's path already: saving replaces it. */
	recipeExists?: boolean;
	onReset: () => void;
};

/** What the registry look-up found, in a few words. */
function registryWords(presence: ReadonlyMap<string, TierPresence> | undefined, registry: string, total: number): string {
	if (!registry) {
		return 'no registry: every tier is built into the local image store';
	}

	const states = [...(presence?.values() ?? [])];
	if (states.length === 0 || states.includes('checking')) {
		return `checking which tiers ${registry} already has…`;
	}

	if (states.every(state => state === 'unknown')) {
		return `${registry} could not be asked; the build checks again`;
	}

	const present = states.filter(state => state === 'present').length;
	return `${present} already in ${registry}, ${total - present} to build`;
}

/** Step 5: the whole tree with tags and registry presence; build, write files only, or start over. */
export function ReviewScreen({preview, output, presence, recipeExists = false, isActive, height, onAnswer, onBack, onReset}: ReviewScreenProps) {
	const theme = useTheme();
	useBackKey(onBack, {isActive});
	const actions: ChoiceItem[] = preview.ok
		? [
			{value: 'build', label: 'Build now', note: output.registry ? (output.push ? `docker buildx bake, pushing to ${output.registry}` : 'docker buildx bake into the local image store') : 'docker buildx bake into the local image store', allowed: true},
			{value: 'files', label: 'Write files only', note: 'Dockerfiles + docker-bake.json, and the recipe', allowed: true},
			{value: 'restart', label: 'Start over', allowed: true},
		]
		: [{value: 'restart', label: 'Start over', allowed: true}];

	const actionList = (
		<SelectList
			key="review-actions"
			items={actions}
			limit={actions.length}
			isActive={isActive}
			onSubmit={item => {
				if (item?.value === 'restart') {
					onReset();
				} else if (item) {
					onAnswer({step: 'review', outcome: item.value as WizardOutcome});
				}
			}}
		/>
	);

	if (!preview.ok) {
		return (
			<Box flexDirection="column">
				<Text {...theme.tone('error')}>These answers produce no tree:</Text>
				<Text wrap="wrap">{preview.message}</Text>
				<Text {...theme.tone('muted')}>Go back (Esc) and change an answer, or start over.</Text>
				{actionList}
			</Box>
		);
	}

	const {tree} = preview.plan;
	const imageLines = tree.images.map(image => {
		const compat = image.compat === 'native' ? '' : ` (${image.compat} compat)`;
		return `${image.name}: ${image.framework.catalog.kind.name} ${image.framework.version.version}, CUDA ${image.cuda.version}${compat}, Python ${image.python.patch}, ${image.os.token}`;
	});
	const fixed = imageLines.length + 1 + 2 + (recipeExists ? 1 : 0) + actions.length;
	// The whole tag under each tier when there is room; else the tag's version part, with its prefix once above.
	const full = height - fixed >= tree.nodes.length * 2;
	const treeRoom = Math.max(2, height - fixed - (full ? 0 : 1));
	const prefix = `${tree.registry ? `${tree.registry}/` : ''}stackwiz/<tier>:`;
	return (
		<Box flexDirection="column">
			{imageLines.map(line => <Text key={line} wrap="truncate-end">{line}</Text>)}
			<Text wrap="truncate-end">
				<Text {...theme.tone('heading')}>{`${tree.nodes.length} tiers`}</Text>
				<Text {...theme.tone('muted')}>{`  ${registryWords(presence, output.registry, tree.nodes.length)}`}</Text>
			</Text>
			{full ? null : <Text wrap="truncate-middle" {...theme.tone('muted')}>{`tags: ${prefix}<below>`}</Text>}
			<TierRows tree={tree} maxRows={treeRoom} tags={full ? 'full' : 'short'} presence={presence}/>
			<Text wrap="truncate-end">
				<Text {...theme.tone('muted')}>recipe </Text>{output.recipeFile}
				<Text {...theme.tone('muted')}>   files </Text>{output.out}
			</Text>
			{recipeExists ? <Text wrap="truncate-end" {...theme.tone('warning')}>{`${output.recipeFile} exists already and will be replaced (Esc to rename)`}</Text> : null}
			<Text wrap="truncate-end" {...theme.tone('muted')}>{`replay: stackwiz --non-interactive ${output.recipeFile}`}</Text>
			{actionList}
		</Box>
	);
}
