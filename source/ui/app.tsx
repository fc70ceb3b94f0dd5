import {Box, Text, useApp, useInput, useStdin} from 'ink';
import {useCallback, useEffect, useMemo, useReducer, useRef, useState} from 'react';
import type {BuildEvent} from '../core/build-events.js';
import type {Catalog} from '../core/catalog.js';
import {bakeArguments, bakeFileName, generateFiles} from '../core/generate.js';
import type {Plan} from '../core/plan.js';
import {serializeRecipe} from '../core/recipe-writer.js';
import {
	appItems,
	createPreviewPlanner,
	createWizardState,
	cudaItems,
	driverItems,
	effectiveAnswers,
	extraItems,
	frameworkItems,
	gpuItems,
	moreItems,
	answerForItem,
	outputInitial,
	previewCandidates,
	pythonItems,
	stepHelp,
	stepNumber,
	stepTitles,
	wizardReducer,
	type ChoiceList,
	type HostHints,
	type OutputAnswers,
	type WizardState,
} from '../core/wizard-state.js';
import {Footer, hints, type KeyHint} from './components/footer.js';
import {HelpBox} from './components/help-box.js';
import {TierTreePanel} from './components/tier-tree.js';
import {useBuild} from './hooks/use-build.js';
import {usePrefetch, usePreview} from './hooks/use-preview.js';
import {useFileExists} from './hooks/use-file-exists.js';
import {useRegistryPresence} from './hooks/use-registry-presence.js';
import {useLatest} from './hooks/use-state-ref.js';
import {useTerminalSize} from './hooks/use-terminal-size.js';
import {useTicker} from './hooks/use-ticker.js';
import {BuildScreen} from './screens/build-screen.js';
import {ChoiceScreen} from './screens/choice-screen.js';
import {DriverScreen} from './screens/driver-screen.js';
import {GpuScreen} from './screens/gpu-screen.js';
import {MultiScreen} from './screens/multi-screen.js';
import {OutputScreen} from './screens/output-screen.js';
import {ReviewScreen} from './screens/review-screen.js';
import type {StepProps} from './screens/step-props.js';
import type {BuildRequest, WizardServices} from './services.js';
import {createTheme, ThemeContext, useTheme} from './theme.js';

export type AppProps = {
	catalog: Catalog;
	/** What nvidia-smi reported, for pre-selection. */
	host?: HostHints;
	/** One line on host detection, shown on the GPU step. */
	hostNote?: string;
	services: WizardServices;
	/**
	 * Called once, right before the app exits, with the exit code and the lines to print after the
	 * last frame: commands to copy (bake, replay, docker run), which the terminal must not cut.
	 */
	onExit: (code: number, epilogue: string[]) => void;
	/** Start somewhere else than the first step (tests). */
	initialState?: WizardState;
	/** NO_COLOR: glyphs and words only. */
	noColor?: boolean;
	/** Aborted on SIGINT/SIGTERM from outside (raw mode turns Ctrl+C into a key): handled like Ctrl+C. */
	signal?: AbortSignal;
};

/** The wizard, then the files or the build: the Ink root that `stackwiz` renders in a terminal. */
export function App(props: AppProps) {
	const theme = useMemo(() => createTheme(Boolean(props.noColor)), [props.noColor]);
	return (
		<ThemeContext.Provider value={theme}>
			<Wizard {...props}/>
		</ThemeContext.Provider>
	);
}

/** What happens after the review. */
type Finish =
	| {phase: 'writing'; outcome: 'build' | 'files'}
	| {phase: 'written'; output: OutputAnswers; plan: Plan; command: string; code: number; problem?: {message: string; hint?: string}}
	| {phase: 'building'; output: OutputAnswers; plan: Plan; command: string; request: BuildRequest};

const footerFor: Record<WizardState['step'], readonly KeyHint[]> = {
	gpus: [hints.move, hints.toggle, hints.filter, hints.confirm, hints.help, hints.quit],
	driver: [hints.move, hints.confirm, hints.back, hints.help, hints.quit],
	cuda: [hints.move, hints.confirm, hints.back, hints.help, hints.quit],
	framework: [hints.move, hints.confirm, hints.back, hints.help, hints.quit],
	python: [hints.move, hints.confirm, hints.back, hints.help, hints.quit],
	extras: [hints.move, hints.toggle, hints.confirm, hints.back, hints.help, hints.quit],
	apps: [hints.move, hints.toggle, hints.confirm, hints.back, hints.help, hints.quit],
	more: [hints.move, hints.confirm, hints.back, hints.help, hints.quit],
	output: [hints.fields, ['type', 'edit'], ['Enter', 'next'], hints.back, hints.help, hints.quit],
	review: [hints.move, hints.confirm, hints.back, hints.help, hints.quit],
};

/** The list a step shows, computed by core from the catalog and the answers so far. */
function listFor(catalog: Catalog, state: WizardState, host: HostHints | undefined): ChoiceList | undefined {
	const {answers, image} = state;
	switch (state.step) {
		case 'driver': {
			return driverItems(answers, host);
		}

		case 'cuda': {
			return cudaItems(catalog, answers, image);
		}

		case 'framework': {
			return frameworkItems(catalog, answers, image);
		}

		case 'python': {
			return pythonItems(catalog, answers, image);
		}

		case 'extras': {
			return extraItems(catalog, answers, image);
		}

		case 'apps': {
			return appItems(catalog, answers, image);
		}

		case 'more': {
			return moreItems(answers, image);
		}

		default: {
			return undefined;
		}
	}
}

/** `docker run --rm -it --gpus all TAG`, one per image, for its top tier. */
function runCommands(tree: Plan['tree']): string[] {
	return tree.images.flatMap(image => {
		const top = tree.nodes.find(node => node.id === tree.leaves.get(image.name));
		return top ? [`docker run --rm -it --gpus all ${top.tag}`] : [];
	});
}

/** Lines a text takes when wrapped at `width`. */
const wrappedLines = (text: string, width: number) => text.split('\n').reduce((sum, line) => sum + Math.max(1, Math.ceil(line.length / Math.max(10, width))), 0);

function Wizard({catalog, host, hostNote, services, onExit, initialState, signal}: AppProps) {
	const theme = useTheme();
	const {exit} = useApp();
	const {isRawModeSupported} = useStdin();
	const keys = Boolean(isRawModeSupported);
	const {columns, rows} = useTerminalSize();
	const [state, dispatch] = useReducer(wizardReducer, undefined, () => initialState ?? createWizardState(catalog, host));
	const planner = useMemo(() => createPreviewPlanner(catalog), [catalog]);
	const {preview, pending} = usePreview(planner, effectiveAnswers(state));
	const gpuList = useMemo(() => gpuItems(catalog), [catalog]);
	const list = useMemo(() => listFor(catalog, state, host), [catalog, state.step, state.image, state.answers, host]);
	const candidates = useMemo(() => previewCandidates(state, list, host), [list, state.answers]);
	usePrefetch(planner, candidates, state.preview);
	// The review, the files and the build always use the confirmed answers, planned in full.
	const committed = state.step === 'review' || state.outcome ? planner.plan(state.answers) : preview;
	const [help, setHelp] = useState(false);
	const [notice, setNotice] = useState<string>();
	const [finish, setFinish] = useState<Finish>();
	const [exitCode, setExitCode] = useState<{code: number; epilogue: string[]}>();
	const [stopping, setStopping] = useState(false);
	const controller = useRef(new AbortController());

	const quit = (code: number, epilogue: string[] = []) => {
		setExitCode(previous => previous ?? {code, epilogue});
	};

	useEffect(() => {
		if (exitCode !== undefined) {
			onExit(exitCode.code, exitCode.epilogue);
			exit();
		}
		// Exit exactly once, after the last frame is committed.
	}, [exitCode]);

	useEffect(() => {
		setHelp(false);
	}, [state.step, state.image]);

	const output = state.answers.output ?? outputInitial(catalog, state.answers);
	const presence = useRegistryPresence(state.step === 'review' && committed.ok ? committed.plan.tree.nodes : undefined, output.registry, services.checkRegistry);
	const recipeExists = useFileExists(state.step === 'review' ? output.recipeFile : undefined, services.fileExists);

	// After the review: write the recipe and the files, then build or stop.
	useEffect(() => {
		const outcome = state.outcome;
		if (!outcome || finish || !committed.ok || !state.answers.output) {
			return;
		}

		const chosen = state.answers.output;
		const {plan, recipe} = committed;
		const command = `cd ${chosen.out} && docker ${bakeArguments(plan.tree, {push: chosen.push}).join(' ')}`;
		const files = generateFiles(plan.resolution, plan.tree);
		setFinish({phase: 'writing', outcome});
		void (async () => {
			try {
				await services.saveRecipe(chosen.recipeFile, serializeRecipe(recipe, `stackwiz recipe, written by the wizard.\nReplay: stackwiz --non-interactive ${chosen.recipeFile}   (add --dry-run to only write the files)`));
				await services.writeFiles(chosen.out, files);
			} catch (error) {
				const hint = (error as {hint?: string}).hint;
				setNotice(`${(error as Error).message}${hint ? ` ${hint}` : ''}`);
				setFinish(undefined);
				dispatch({type: 'back'});
				return;
			}

			if (outcome === 'files' || !services.build) {
				setFinish({
					phase: 'written',
					output: chosen,
					plan,
					command,
					code: outcome === 'files' ? 0 : 2,
					...(outcome === 'files' ? {} : {problem: {message: 'this stackwiz cannot run docker builds.'}}),
				});
				return;
			}

			setFinish({phase: 'building', output: chosen, plan, command, request: {recipe: recipe.name, out: chosen.out, files, plan, push: chosen.push}});
		})();
	}, [state.outcome]);

	const building = finish?.phase === 'building' ? finish : undefined;
	const start = useMemo(() => (building && services.build ? (abort: AbortSignal): AsyncIterable<BuildEvent> => services.build!(building.request, abort) : null), [building, services.build]);
	const run = useBuild(start, controller.current.signal);
	const running = Boolean(building) && !run.ended;
	const tick = useTicker(100, running);
	const now = useMemo(() => Date.now(), [tick, run.state]);

	useEffect(() => {
		if (finish?.phase === 'written') {
			quit(finish.code, [
				'Build them with:',
				`  ${finish.command}`,
				'Replay these choices:',
				`  stackwiz --non-interactive ${finish.output.recipeFile}`,
				`Then try ${finish.plan.tree.images.length === 1 ? 'the image' : 'an image'}:`,
				...runCommands(finish.plan.tree).map(line => `  ${line}`),
			]);
		}
	}, [finish]);

	useEffect(() => {
		if (!building || !run.ended) {
			return;
		}

		if (run.error && run.state.status === 'idle' && !stopping) {
			// Docker could not even start (missing, daemon down, old buildx): the files are written; say how to build them.
			const hint = (run.error as {hint?: string}).hint;
			setFinish({...building, phase: 'written', code: 2, problem: {message: run.error.message, ...(hint ? {hint} : {})}});
			return;
		}

		const outcome = run.state.outcome;
		const ok = outcome === 'ok' && !run.error;
		const replay = `  stackwiz --non-interactive ${building.output.recipeFile}`;
		quit(stopping || outcome === 'cancelled' ? 130 : ok ? 0 : 1, ok
			? [`Try ${building.plan.tree.images.length === 1 ? 'it' : 'them'}:`, ...runCommands(building.plan.tree).map(line => `  ${line}`), 'Build the same tags again (CI):', replay]
			: [stopping || outcome === 'cancelled' ? 'Continue the build (finished tiers are not rebuilt):' : 'Build again once fixed (finished tiers are not rebuilt):', replay]);
	}, [run.ended]);

	const interrupt = () => {
		if (running) {
			// Stop bake and let it report; the exit follows the stream's end.
			setStopping(true);
			controller.current.abort();
			return;
		}

		controller.current.abort();
		quit(130);
	};

	const latestInterrupt = useLatest(interrupt);
	useEffect(() => {
		if (!signal) {
			return;
		}

		const onAbort = () => {
			latestInterrupt.current();
		};

		if (signal.aborted) {
			onAbort();
			return;
		}

		signal.addEventListener('abort', onAbort, {once: true});
		return () => {
			signal.removeEventListener('abort', onAbort);
		};
	}, [signal]);

	useInput((input, key) => {
		if (key.ctrl && input === 'c') {
			interrupt();
			return;
		}

		if (input === '?' && !finish) {
			setHelp(value => !value);
		}
	}, {isActive: keys});

	const onStep = useMemo(() => ({
		onAnswer: (answer: Parameters<StepProps['onAnswer']>[0]) => {
			setNotice(undefined);
			dispatch({type: 'answer', answer});
		},
		onPreview: (answer: Parameters<StepProps['onPreview']>[0]) => {
			dispatch({type: 'preview', answer});
		},
		onBack: () => {
			setNotice(undefined);
			dispatch({type: 'back'});
		},
	}), []);
	const onReset = useCallback(() => {
		dispatch({type: 'reset'});
	}, []);

	if (finish) {
		return <FinishView finish={finish} run={run} now={now} tick={tick} columns={columns} rows={rows} stopping={stopping}/>;
	}

	const {index, total} = stepNumber(state.step);
	const images = state.answers.images.length;
	const imageStep = ['cuda', 'framework', 'python', 'extras', 'apps', 'more'].includes(state.step);
	// Wide terminals put the tree beside the list instead of under it.
	const side = columns >= 120 && state.step !== 'review';
	const sideWidth = Math.min(72, Math.floor(columns * 0.45));
	const helpHeight = help ? wrappedLines(stepHelp[state.step], columns - 4) + 2 : 0;
	const treeRowCount = preview.ok ? preview.plan.tree.nodes.length + 1 : 2;
	const treeHeight = state.step === 'review' || side ? 0 : Math.min(treeRowCount, 8) + 1;
	const noticeHeight = notice ? Math.min(2, wrappedLines(notice, columns)) : 0;
	// Header, blank, footer, and one spare line so Ink never fills the whole screen.
	const bodyHeight = Math.max(5, rows - 4 - treeHeight - helpHeight - noticeHeight);
	const stepProps: StepProps = {isActive: keys && !finish, height: bodyHeight, ...onStep};
	const hostLines = [hostNote, ...state.unknownHostGpus.map(name => `nvidia-smi reports "${name}", which the catalog does not know`)].filter(Boolean).join('; ');

	const screen = (() => {
		switch (state.step) {
			case 'gpus': {
				return <GpuScreen {...stepProps} items={gpuList} initialChecked={state.answers.gpus} {...(hostLines ? {hostNote: hostLines} : {})}/>;
			}

			case 'driver': {
				return <DriverScreen {...stepProps} list={list!} {...(host ? {host} : {})} {...(state.answers.driver ? {answer: state.answers.driver} : {})}/>;
			}

			case 'cuda':
			case 'framework':
			case 'python': {
				const step = state.step;
				return <ChoiceScreen {...stepProps} list={list!} toAnswer={value => answerForItem(step, value)!}/>;
			}

			case 'extras': {
				return <MultiScreen {...stepProps} list={list!} checked={state.answers.images[state.image]?.extras ?? []} emptyText="the catalog lists no extras" toAnswer={values => ({step: 'extras', extras: values})}/>;
			}

			case 'apps': {
				return <MultiScreen {...stepProps} list={list!} checked={state.answers.images[state.image]?.apps ?? []} emptyText="the catalog lists no apps" toAnswer={values => ({step: 'apps', apps: values})}/>;
			}

			case 'more': {
				return <ChoiceScreen {...stepProps} list={list!} previews={false} toAnswer={value => answerForItem('more', value)!}/>;
			}

			case 'output': {
				return <OutputScreen {...stepProps} initial={output}/>;
			}

			case 'review': {
				return <ReviewScreen {...stepProps} preview={committed} output={output} {...(presence ? {presence} : {})} {...(recipeExists === undefined ? {} : {recipeExists})} onReset={onReset}/>;
			}
		}
	})();

	const treePanel = <TierTreePanel preview={preview} pending={pending} maxRows={side ? rows - 4 : treeHeight - 1}/>;
	return (
		<Box flexDirection="column" width={columns}>
			<Text wrap="truncate-end">
				<Text {...theme.tone('accent')}>stackwiz</Text>
				<Text {...theme.tone('muted')}>{`  step ${index}/${total}  `}</Text>
				<Text {...theme.tone('heading')}>{stepTitles[state.step]}</Text>
				<Text {...theme.tone('muted')}>{imageStep && images > 1 ? `  · image ${state.image + 1} of ${images}` : imageStep && state.image > 0 ? `  · image ${state.image + 1}` : ''}</Text>
			</Text>
			{notice ? <Box height={noticeHeight} overflow="hidden"><Text wrap="wrap" {...theme.tone('error')}>{notice}</Text></Box> : null}
			<Box flexDirection={side ? 'row' : 'column'} marginTop={1}>
				<Box flexDirection="column" width={side ? columns - sideWidth - 2 : columns} key={`${state.step}:${state.image}`}>
					{screen}
				</Box>
				{state.step === 'review' ? null : (
					<Box flexDirection="column" marginTop={side ? 0 : 1} marginLeft={side ? 2 : 0} width={side ? sideWidth : columns}>
						{treePanel}
					</Box>
				)}
			</Box>
			{help ? <HelpBox text={stepHelp[state.step]}/> : null}
			<Footer keys={footerFor[state.step]}/>
		</Box>
	);
}

type FinishViewProps = {
	finish: Finish;
	run: ReturnType<typeof useBuild>;
	now: number;
	tick: number;
	columns: number;
	rows: number;
	stopping: boolean;
};

/** Files written (and why no build, if so), or the build screen. */
function FinishView({finish, run, now, tick, columns, rows, stopping}: FinishViewProps) {
	const theme = useTheme();
	if (finish.phase === 'writing') {
		return <Text {...theme.tone('muted')}>writing the recipe and the files…</Text>;
	}

	const {output, plan} = finish;
	const saved = [`recipe ${output.recipeFile}   files ${output.out}`];
	if (finish.phase === 'building') {
		return (
			<Box flexDirection="column">
				<BuildScreen state={run.state} tree={plan.tree} now={now} tick={tick} tailLines={3} rows={rows} columns={columns} {...(run.error ? {error: run.error} : {})} footer={saved}/>
				{stopping && !run.ended ? <Text {...theme.tone('warning')}>stopping docker buildx bake…</Text> : null}
			</Box>
		);
	}

	return (
		<Box flexDirection="column">
			<Text {...theme.tone('success')}>{`${theme.glyph.ok} recipe saved to ${output.recipeFile}`}</Text>
			<Text {...theme.tone('success')}>{`${theme.glyph.ok} ${plan.tree.nodes.length} Dockerfiles and ${bakeFileName} written to ${output.out}`}</Text>
			{finish.problem ? <Text wrap="wrap" {...theme.tone('warning')}>{`Not building: ${finish.problem.message}`}</Text> : null}
			{finish.problem?.hint ? <Text wrap="wrap" {...theme.tone('muted')}>{finish.problem.hint}</Text> : null}
		</Box>
	);
}
