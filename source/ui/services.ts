import type {BuildEvent} from '../core/build-events.js';
import type {Plan} from '../core/plan.js';
import type {TierNode} from '../core/tier-tree.js';

/** What a build needs from the wizard: the written files, the plan, and where the tiers go. */
export type BuildRequest = {
	/** The recipe name, for the build result. */
	recipe: string;
	/** The output directory holding docker-bake.json and one Dockerfile folder per tier. */
	out: string;
	/** The files written there, by relative path. */
	files: ReadonlyMap<string, string>;
	plan: Plan;
	/** Push every tier to the registry; otherwise load them into the local image store. */
	push: boolean;
};

/**
 * The side effects the wizard needs, handed in by the command so the Ink tree never touches the
 * file system, the registry or docker itself, and tests pass fakes.
 */
export type WizardServices = {
	/** Writes the recipe YAML (atomically). */
	saveRecipe: (file: string, text: string) => Promise<void>;
	/** Whether something is at `file` already (the review says the recipe would replace it). */
	fileExists?: (file: string) => Promise<boolean>;
	/** Writes the generated files as one directory (atomically). */
	writeFiles: (out: string, files: Map<string, string>) => Promise<void>;
	/** The ids of the tiers whose tags `registry` already has; rejects when it cannot tell. */
	checkRegistry?: (registry: string, nodes: readonly TierNode[], signal: AbortSignal) => Promise<ReadonlySet<string>>;
	/**
	 * Runs the build and streams its events; aborting the signal stops bake. Throws (a UserError
	 * with a hint) before any event when docker cannot build at all.
	 */
	build?: (request: BuildRequest, signal: AbortSignal) => AsyncIterable<BuildEvent>;
};
