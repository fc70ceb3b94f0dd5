import type {BuildEvent} from '../../source/core/build-events.js';
import type {Catalog} from '../../source/core/catalog.js';
import type {HostHints, WizardState} from '../../source/core/wizard-state.js';
import {App} from '../../source/ui/app.js';
import type {BuildRequest, WizardServices} from '../../source/ui/services.js';
import {renderTui, type Size} from './helpers/render.js';

/** What the fake services saw. */
export type Recorded = {
	recipes: Map<string, string>;
	outputs: Map<string, Map<string, string>>;
	builds: BuildRequest[];
	exitCodes: number[];
	/** What the app asked to print after its last frame. */
	epilogue: string[];
	registryChecks: number;
};

export type FakeOptions = {
	/** Tier ids the registry has. */
	registry?: ReadonlySet<string>;
	/** The build's events; a function gets the request and the abort signal. */
	build?: (request: BuildRequest, signal: AbortSignal) => AsyncIterable<BuildEvent>;
	/** writeFiles rejects with this. */
	writeError?: Error;
	/** Paths fileExists finds (none when absent). */
	existingFiles?: ReadonlySet<string>;
};

/** Services that record instead of touching the disk, the registry or docker. */
export function fakeServices(options: FakeOptions = {}): {services: WizardServices; recorded: Recorded} {
	const recorded: Recorded = {recipes: new Map(), outputs: new Map(), builds: [], exitCodes: [], epilogue: [], registryChecks: 0};
	const services: WizardServices = {
		async saveRecipe(file, text) {
			recorded.recipes.set(file, text);
		},
		async fileExists(file) {
			return options.existingFiles?.has(file) ?? false;
		},
		async writeFiles(out, files) {
			if (options.writeError) {
				throw options.writeError;
			}

			recorded.outputs.set(out, files);
		},
		...(options.registry ? {
			async checkRegistry() {
				recorded.registryChecks++;
				return options.registry!;
			},
		} : {}),
		...(options.build ? {
			build(request, signal) {
				recorded.builds.push(request);
				return options.build!(request, signal);
			},
		} : {}),
	};
	return {services, recorded};
}

export type WizardOptions = FakeOptions & {
	host?: HostHints;
	hostNote?: string;
	initialState?: WizardState;
	size?: Size;
	noColor?: boolean;
	signal?: AbortSignal;
};

/** The whole app on a fake 80x24 terminal with fake services. */
export async function renderWizard(catalog: Catalog, options: WizardOptions = {}) {
	const {services, recorded} = fakeServices(options);
	const ui = await renderTui(
		<App
			catalog={catalog}
			services={services}
			onExit={(code, epilogue) => {
				recorded.exitCodes.push(code);
				recorded.epilogue.push(...epilogue);
			}}
			{...(options.host ? {host: options.host} : {})}
			{...(options.hostNote ? {hostNote: options.hostNote} : {})}
			{...(options.initialState ? {initialState: options.initialState} : {})}
			{...(options.noColor ? {noColor: true} : {})}
			{...(options.signal ? {signal: options.signal} : {})}
		/>,
		options.size,
	);
	return {...ui, recorded};
}
