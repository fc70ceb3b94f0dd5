/**
 * Reading `docker buildx bake --progress=rawjson` from its stderr, and turning it into per-tier
 * build events. Pure: fed text chunks, returns updates; no process, no clock of its own.
 *
 * Three layers:
 * - `JsonStreamSplitter` cuts the stream into JSON values and text lines. buildx <= 0.14 prints each
 *   object indented over many lines, >= 0.15 one per line; `WARNING:` lines, a Dockerfile snippet
 *   and the `ERROR:` trailer are plain text in between.
 * - `BakeProgressParser` merges vertex records by digest and attributes each vertex to a tier.
 *   With several targets every name carries `[target ...]`, and an ancestor's steps also appear
 *   under each descendant's prefix, often there first: the owner is the most ancestral tier seen
 *   for that digest (or, with the tiers' Dockerfile steps as hints, the ancestor whose Dockerfile
 *   has that step). A single-target build has no prefixes at all.
 * - `BakeTracker` derives the tier state machine from those updates and emits `BuildEvent`s.
 */
import {Buffer} from 'node:buffer';
import {TextDecoder} from 'node:util';
import {appendBounded, isFinalPhase, logTailLines, type BuildEvent, type ByteProgress, type TierPhase} from './build-events.js';

// ------------------------------------------------------------------------------------------------
// Framing

export type StreamItem = {kind: 'json'; value: unknown} | {kind: 'text'; line: string};

/** Longest text line kept (a longer one is cut) and largest JSON value scanned before giving up on it. */
const maxLineLength = 16 * 1024;
const maxValueLength = 8 * 1024 * 1024;

/**
 * Splits a character stream into JSON values and text lines, whatever the framing. A line whose
 * first non-blank character is `{` starts a JSON value, scanned to its matching brace (strings and
 * escapes respected); anything else is a text line, leading spaces kept. Blank lines are dropped.
 */
export class JsonStreamSplitter {
	private buffer = '';
	/** Scan state of a JSON value that has not closed yet. */
	private scan: {start: number; index: number; depth: number; inString: boolean; escape: boolean} | null = null;

	push(chunk: string): StreamItem[] {
		this.buffer += chunk;
		return this.drain(false);
	}

	/** Flushes whatever is left: an unterminated value or a last line without newline comes out as text. */
	end(): StreamItem[] {
		return this.drain(true);
	}

	private drain(final: boolean): StreamItem[] {
		const items: StreamItem[] = [];
		let position = 0;
		const buffer = this.buffer;
		for (;;) {
			if (this.scan) {
				const closed = this.continueScan(buffer);
				if (closed === undefined) {
					if (final || this.scan.index - this.scan.start > maxValueLength) {
						items.push(...textLines(buffer.slice(this.scan.start)));
						position = buffer.length;
						this.scan = null;
					}

					break;
				}

				const text = buffer.slice(this.scan.start, closed);
				this.scan = null;
				position = closed;
				try {
					items.push({kind: 'json', value: JSON.parse(text) as unknown});
				} catch {
					items.push(...textLines(text));
				}

				continue;
			}

			if (position >= buffer.length) {
				break;
			}

			const newline = buffer.indexOf('\n', position);
			const lineEnd = newline === -1 ? buffer.length : newline;
			let first = position;
			while (first < lineEnd && (buffer[first] === ' ' || buffer[first] === '\t' || buffer[first] === '\r')) {
				first++;
			}

			if (first < lineEnd && buffer[first] === '{') {
				this.scan = {start: first, index: first, depth: 0, inString: false, escape: false};
				continue;
			}

			if (newline === -1) {
				if (final || lineEnd - position > maxLineLength) {
					items.push(...textLines(buffer.slice(position, lineEnd)));
					position = lineEnd;
				}

				break;
			}

			items.push(...textLines(buffer.slice(position, lineEnd)));
			position = newline + 1;
		}

		this.buffer = buffer.slice(position);
		if (this.scan) {
			this.scan.start -= position;
			this.scan.index -= position;
		}

		return items;
	}

	/** Advances the open scan; returns the index just past the closing brace, or undefined when more input is needed. */
	private continueScan(buffer: string): number | undefined {
		const scan = this.scan!;
		for (let index = scan.index; index < buffer.length; index++) {
			const char = buffer[index];
			if (scan.inString) {
				if (scan.escape) {
					scan.escape = false;
				} else if (char === '\\') {
					scan.escape = true;
				} else if (char === '"') {
					scan.inString = false;
				}

				continue;
			}

			if (char === '"') {
				scan.inString = true;
			} else if (char === '{' || char === '[') {
				scan.depth++;
			} else if (char === '}' || char === ']') {
				scan.depth--;
				if (scan.depth === 0) {
					return index + 1;
				}
			}
		}

		scan.index = buffer.length;
		return undefined;
	}
}

function textLines(text: string): StreamItem[] {
	return text
		.split('\n')
		.map(line => line.replace(/\r$/, ''))
		.filter(line => line.trim() !== '')
		.map(line => ({kind: 'text', line: line.length > maxLineLength ? `${line.slice(0, maxLineLength)}…` : line}));
}

// ------------------------------------------------------------------------------------------------
// SolveStatus records (moby/buildkit client/graph.go) as rawjson prints them

type RawVertex = {digest?: string; inputs?: string[]; name?: string; started?: string; completed?: string; cached?: boolean; error?: string};
type RawStatus = {id?: string; vertex?: string; name?: string; total?: number; current?: number; started?: string; completed?: string};
type RawLog = {vertex?: string; stream?: number; data?: string};
type RawWarning = {vertex?: string; short?: string; detail?: string[]; url?: string};
type SolveStatus = {vertexes?: RawVertex[]; statuses?: RawStatus[]; logs?: RawLog[]; warnings?: RawWarning[]};

export type VertexKind = 'step' | 'from' | 'internal' | 'context' | 'export' | 'push' | 'cache-import' | 'cache-export' | 'other';

/** One vertex, merged over every record and prefix that named it. */
export type Vertex = {
	digest: string;
	/** The name without the target prefix: "[2/3] RUN make", "exporting to image". */
	name: string;
	/** For Dockerfile steps: the instruction ("RUN make") and its place in its own Dockerfile. */
	instruction: string | null;
	index: number | null;
	total: number | null;
	kind: VertexKind;
	started: string | null;
	completed: string | null;
	cached: boolean;
	error: string | null;
	/** Targets whose prefix this digest appeared under, first seen first. */
	prefixes: string[];
	/** The tier the vertex belongs to; null for bake's own vertices. */
	owner: string | null;
};

export type VertexStatus = {id: string; name: string | null; current: number; total: number | null; completed: boolean};

export type ProgressUpdate =
	| {type: 'vertex'; vertex: Vertex; previousOwner: string | null}
	| {type: 'status'; vertex: Vertex; status: VertexStatus}
	| {type: 'log'; vertex: Vertex; stream: number; line: string}
	| {type: 'warning'; vertex: Vertex | null; message: string}
	| {type: 'text'; line: string};

export type BakeTarget = {id: string; parent: string | null};

const stepPattern = /^\[(?:[^\]\s]+ )?(\d+)\/(\d+)\] ([\s\S]*)$/;
const prefixPattern = /^\[([^\]\s]+)(?: ([^\]]*))?\] ?([\s\S]*)$/;
const bakeDefinitions = '[internal] load local bake definitions';

function classify(name: string): Pick<Vertex, 'instruction' | 'index' | 'total' | 'kind'> {
	const step = stepPattern.exec(name);
	if (step) {
		const instruction = step[3]!;
		return {instruction, index: Number(step[1]), total: Number(step[2]), kind: /^FROM\s/i.test(instruction) ? 'from' : 'step'};
	}

	const kind: VertexKind = /^\[(internal|auth)\]/.test(name)
		? 'internal'
		: /^\[context [^\]]+\]/.test(name)
			? 'context'
			: name.startsWith('exporting cache')
				? 'cache-export'
				: name.startsWith('importing cache manifest')
					? 'cache-import'
					: /^pushing \S+ with docker$/.test(name)
						? 'push'
						: name.startsWith('exporting to ') || name.startsWith('sending tarball')
							? 'export'
							: 'other';
	return {instruction: null, index: null, total: null, kind};
}

/** Whitespace-insensitive form of a Dockerfile instruction, for matching step names against hints. */
export function normalizeInstruction(text: string): string {
	return text.replaceAll(/\s+/g, ' ').trim();
}

/**
 * The instructions of a Dockerfile that become build steps (everything but FROM, comments and
 * instructions BuildKit folds into the image config), normalized for `BakeProgressParser` hints.
 */
export function dockerfileSteps(dockerfile: string): string[] {
	const joined = dockerfile.replaceAll(/\\\r?\n/g, ' ');
	return joined
		.split('\n')
		.map(line => line.trim())
		.filter(line => /^(RUN|COPY|ADD|WORKDIR)\s/i.test(line))
		.map(line => normalizeInstruction(line));
}

type LogSink = {decoder: TextDecoder; partial: string};
type LogLine = {seq: number; line: string};
const maxLogLineLength = 2000;

/**
 * Merges rawjson records by vertex digest and attributes vertices to targets. Memory stays bounded:
 * one record per vertex, one per status id, and a ring of the last log lines per vertex.
 */
export class BakeProgressParser {
	private readonly splitter = new JsonStreamSplitter();
	private readonly vertices = new Map<string, Vertex>();
	private readonly statuses = new Map<string, Map<string, VertexStatus>>();
	private readonly logs = new Map<string, LogLine[]>();
	private readonly sinks = new Map<string, LogSink>();
	private readonly depth = new Map<string, number>();
	private readonly parents = new Map<string, string | null>();
	private readonly steps: ReadonlyMap<string, ReadonlySet<string>>;
	private readonly single: string | null;
	private logSeq = 0;

	/**
	 * @param targets the targets of this bake run; `parent` only when the parent is a target too.
	 * @param steps optional hints: each target's own step instructions (see `dockerfileSteps`).
	 */
	constructor(targets: readonly BakeTarget[], steps?: ReadonlyMap<string, readonly string[]>) {
		for (const target of targets) {
			this.parents.set(target.id, target.parent);
		}

		for (const target of targets) {
			let depth = 0;
			for (let id = target.parent; id !== null && depth <= targets.length; id = this.parents.get(id) ?? null) {
				depth++;
			}

			this.depth.set(target.id, depth);
		}

		this.single = targets.length === 1 ? targets[0]!.id : null;
		this.steps = new Map([...(steps ?? new Map<string, readonly string[]>())].map(([id, list]) => [id, new Set(list.map(step => normalizeInstruction(step)))]));
	}

	/**
	 * Feeds a chunk of stderr. `onUpdate` sees each update as it is made, while the parser's state
	 * (`allVertices`, `statusesOf`) is exactly as of that update.
	 */
	push(chunk: string, onUpdate?: (update: ProgressUpdate) => void): ProgressUpdate[] {
		return this.handle(this.splitter.push(chunk), onUpdate);
	}

	end(onUpdate?: (update: ProgressUpdate) => void): ProgressUpdate[] {
		const updates = this.handle(this.splitter.end(), onUpdate);
		for (const [key, sink] of this.sinks) {
			const rest = sink.partial + sink.decoder.decode();
			sink.partial = '';
			const vertex = this.vertices.get(key.slice(0, key.lastIndexOf('#')));
			if (rest.trim() !== '' && vertex) {
				for (const update of this.addLogLines(vertex, Number(key.slice(key.lastIndexOf('#') + 1)), [rest])) {
					updates.push(update);
					onUpdate?.(update);
				}
			}
		}

		return updates;
	}

	/** Every vertex seen so far. */
	allVertices(): Vertex[] {
		return [...this.vertices.values()];
	}

	/** The statuses of one vertex, by id. */
	statusesOf(digest: string): VertexStatus[] {
		return [...(this.statuses.get(digest)?.values() ?? [])];
	}

	/** The last `limit` log lines of every vertex the tier owns, in the order they arrived. */
	logTail(tier: string, limit = logTailLines): string[] {
		const lines: LogLine[] = [];
		for (const vertex of this.vertices.values()) {
			if (vertex.owner === tier) {
				lines.push(...(this.logs.get(vertex.digest) ?? []));
			}
		}

		return lines
			.sort((a, b) => a.seq - b.seq)
			.slice(-limit)
			.map(entry => entry.line);
	}

	private handle(items: StreamItem[], onUpdate?: (update: ProgressUpdate) => void): ProgressUpdate[] {
		const all: ProgressUpdate[] = [];
		const updates = {
			push(...list: ProgressUpdate[]) {
				for (const update of list) {
					all.push(update);
					onUpdate?.(update);
				}
			},
		};
		for (const item of items) {
			if (item.kind === 'text') {
				updates.push({type: 'text', line: item.line});
				continue;
			}

			if (typeof item.value !== 'object' || item.value === null || Array.isArray(item.value)) {
				continue;
			}

			const status = item.value as SolveStatus;
			for (const record of status.vertexes ?? []) {
				updates.push(...this.mergeVertex(record));
			}

			for (const record of status.statuses ?? []) {
				updates.push(...this.mergeStatus(record));
			}

			for (const record of status.logs ?? []) {
				updates.push(...this.mergeLog(record));
			}

			for (const record of status.warnings ?? []) {
				const vertex = record.vertex ? this.vertices.get(record.vertex) ?? null : null;
				const text = [record.short, ...(record.detail ?? [])].filter((part): part is string => Boolean(part)).map(part => decodeBase64(part).trim());
				updates.push({type: 'warning', vertex, message: text.filter(Boolean).join(' ') + (record.url ? ` (${record.url})` : '')});
			}
		}

		return all;
	}

	private vertex(digest: string): Vertex {
		let vertex = this.vertices.get(digest);
		if (!vertex) {
			vertex = {digest, name: '', instruction: null, index: null, total: null, kind: 'other', started: null, completed: null, cached: false, error: null, prefixes: [], owner: null};
			this.vertices.set(digest, vertex);
		}

		return vertex;
	}

	private mergeVertex(record: RawVertex): ProgressUpdate[] {
		if (!record.digest) {
			return [];
		}

		const vertex = this.vertex(record.digest);
		const before = JSON.stringify(vertex);
		const previousOwner = vertex.owner;
		if (record.name !== undefined) {
			const {target, bare} = this.splitName(record.name);
			if (target && !vertex.prefixes.includes(target)) {
				vertex.prefixes.push(target);
			}

			// The bare name is the same under every prefix; take it from the first record, or from the owner's.
			if (vertex.name === '' || this.ownerCandidate(vertex) === target) {
				vertex.name = bare;
				Object.assign(vertex, classify(bare));
			}

			vertex.owner = this.ownerOf(vertex);
		}

		if (record.started && (vertex.started === null || record.started < vertex.started)) {
			vertex.started = record.started;
		}

		if (record.completed && vertex.completed === null) {
			vertex.completed = record.completed;
		}

		if (record.cached) {
			vertex.cached = true;
		}

		if (record.error && vertex.error === null) {
			vertex.error = record.error;
		}

		if (JSON.stringify(vertex) === before) {
			return [];
		}

		return [{type: 'vertex', vertex: {...vertex, prefixes: [...vertex.prefixes]}, previousOwner}];
	}

	private mergeStatus(record: RawStatus): ProgressUpdate[] {
		if (!record.vertex || !record.id) {
			return [];
		}

		const vertex = this.vertex(record.vertex);
		let byId = this.statuses.get(record.vertex);
		if (!byId) {
			byId = new Map();
			this.statuses.set(record.vertex, byId);
		}

		const previous = byId.get(record.id);
		const total = record.total && record.total > 0 ? record.total : previous?.total ?? null;
		const completed = Boolean(record.completed) || Boolean(previous?.completed);
		// `current` can end above `total`, and the final record of a pushed layer says current 0.
		let current = Math.max(record.current ?? 0, previous?.current ?? 0);
		if (total !== null) {
			current = completed ? total : Math.min(current, total);
		}

		const status: VertexStatus = {id: record.id, name: record.name ?? previous?.name ?? null, current, total, completed};
		if (previous && previous.current === status.current && previous.total === status.total && previous.completed === status.completed) {
			return [];
		}

		byId.set(record.id, status);
		return [{type: 'status', vertex: {...vertex, prefixes: [...vertex.prefixes]}, status}];
	}

	private mergeLog(record: RawLog): ProgressUpdate[] {
		if (!record.vertex || !record.data) {
			return [];
		}

		const vertex = this.vertex(record.vertex);
		const stream = record.stream ?? 1;
		const key = `${record.vertex}#${stream}`;
		let sink = this.sinks.get(key);
		if (!sink) {
			sink = {decoder: new TextDecoder(), partial: ''};
			this.sinks.set(key, sink);
		}

		const text = sink.partial + sink.decoder.decode(Buffer.from(record.data, 'base64'), {stream: true});
		const lines = text.split('\n');
		sink.partial = lines.pop() ?? '';
		if (sink.partial.length > maxLogLineLength) {
			lines.push(sink.partial);
			sink.partial = '';
		}

		return this.addLogLines(vertex, stream, lines);
	}

	private addLogLines(vertex: Vertex, stream: number, lines: string[]): ProgressUpdate[] {
		const updates: ProgressUpdate[] = [];
		const ring = this.logs.get(vertex.digest) ?? [];
		const added: LogLine[] = [];
		for (const raw of lines) {
			// A progress bar redraws with \r: keep what the terminal would show last.
			const segments = raw.split('\r').filter(segment => segment !== '');
			let line = segments.at(-1) ?? '';
			if (line.length > maxLogLineLength) {
				line = `${line.slice(0, maxLogLineLength)}…`;
			}

			added.push({seq: this.logSeq++, line});
			updates.push({type: 'log', vertex: {...vertex, prefixes: [...vertex.prefixes]}, stream, line});
		}

		this.logs.set(vertex.digest, appendBounded(ring, added, logTailLines));
		return updates;
	}

	/** The target a name's prefix names (null when unprefixed) and the name without it. */
	private splitName(name: string): {target: string | null; bare: string} {
		if (this.single !== null) {
			return {target: name === bakeDefinitions ? null : this.single, bare: name};
		}

		const match = prefixPattern.exec(name);
		if (!match || !this.parents.has(match[1]!)) {
			return {target: null, bare: name};
		}

		return {target: match[1]!, bare: match[2] === undefined ? match[3]! : `[${match[2]}] ${match[3]!}`};
	}

	/** The most ancestral target among the prefixes (lowest depth; the first seen on a tie). */
	private ownerCandidate(vertex: Vertex): string | null {
		let best: string | null = null;
		for (const prefix of vertex.prefixes) {
			if (best === null || this.depth.get(prefix)! < this.depth.get(best)!) {
				best = prefix;
			}
		}

		return best;
	}

	private ownerOf(vertex: Vertex): string | null {
		const candidate = this.ownerCandidate(vertex);
		if (candidate === null || vertex.instruction === null || this.steps.size === 0) {
			return candidate;
		}

		// The true owner is the candidate or one of its ancestors: pick the one whose Dockerfile has this step.
		const instruction = normalizeInstruction(vertex.instruction);
		const matches: string[] = [];
		for (let id: string | null = candidate; id !== null && matches.length < 2; id = this.parents.get(id) ?? null) {
			if (this.steps.get(id)?.has(instruction)) {
				matches.push(id);
			}
		}

		return matches.length === 1 ? matches[0]! : candidate;
	}
}

function decodeBase64(text: string): string {
	return Buffer.from(text, 'base64').toString('utf8');
}

// ------------------------------------------------------------------------------------------------
// Tier states

export type TrackerOptions = {
	targets: readonly BakeTarget[];
	/** Whether every target is pushed (`--push`); a tier is final at "pushed" instead of "built". */
	push: boolean;
	steps?: ReadonlyMap<string, readonly string[]>;
	/** The clock events are stamped with (milliseconds). */
	now: () => number;
};

type TierTrack = {
	phase: TierPhase;
	/** What the last building/pushing event said, to emit only on change. */
	shown: string;
	/** BuildKit pushed inside "exporting to image" (non-docker drivers). */
	exportPush: boolean;
};

/** A tier that failed: the vertex error and the tier's last log lines. */
export type TierFailure = {tier: string; step: string; reason: string; logTail: string[]};

/** Vertex kinds that mean a tier is doing its own work. */
const activeKinds: ReadonlySet<VertexKind> = new Set(['step', 'from', 'context', 'export', 'push']);

const isCancellation = (error: string) => /context canceled\s*$/.test(error);

/**
 * Turns a bake run's stderr into per-tier `BuildEvent`s: queued -> building (step, n/m, bytes) ->
 * cached | built -> pushing -> pushed, and at the end failed | cancelled for the tiers that did not
 * finish. Failures are decided when the run ends, once every prefix of a failing digest has been
 * seen, so a parent's failing step is never blamed on the child that reported it first.
 */
export class BakeTracker {
	readonly parser: BakeProgressParser;
	private readonly tiers = new Map<string, TierTrack>();
	private readonly order: string[];
	private readonly parents: ReadonlyMap<string, string | null>;
	private readonly push: boolean;
	private readonly now: () => number;
	private readonly warned = new Set<string>();
	private text: string[] = [];

	constructor(options: TrackerOptions) {
		this.parser = new BakeProgressParser(options.targets, options.steps);
		this.order = options.targets.map(target => target.id);
		this.parents = new Map(options.targets.map(target => [target.id, target.parent]));
		this.push = options.push;
		this.now = options.now;
		for (const target of options.targets) {
			this.tiers.set(target.id, {phase: 'queued', shown: '', exportPush: false});
		}
	}

	/** One "queued" event per target. */
	start(): BuildEvent[] {
		const time = this.now();
		return this.order.map(tier => ({type: 'queued', time, tier}));
	}

	feed(chunk: string): BuildEvent[] {
		const events: BuildEvent[] = [];
		this.parser.push(chunk, update => events.push(...this.apply(update)));
		return events;
	}

	/** The text lines bake printed (warnings, the ERROR trailer), the last 50. */
	textLines(): string[] {
		return [...this.text];
	}

	/** The `ERROR: ...` lines of the trailer, without the prefix. */
	errorLines(): string[] {
		return this.text.filter(line => line.startsWith('ERROR:')).map(line => line.slice('ERROR:'.length).trim());
	}

	phaseOf(tier: string): TierPhase | undefined {
		return this.tiers.get(tier)?.phase;
	}

	/** Tiers whose own step failed (not a cancellation, not a cache import), by final attribution. */
	failures(): TierFailure[] {
		const failures = new Map<string, TierFailure>();
		for (const vertex of this.parser.allVertices()) {
			if (vertex.error === null || vertex.owner === null || vertex.kind === 'cache-import' || isCancellation(vertex.error) || failures.has(vertex.owner)) {
				continue;
			}

			failures.set(vertex.owner, {tier: vertex.owner, step: vertex.name, reason: vertex.error, logTail: this.parser.logTail(vertex.owner)});
		}

		return this.order.filter(id => failures.has(id)).map(id => failures.get(id)!);
	}

	/**
	 * The run ended: flush the stream and settle every tier. With exit code 0 all tiers finished;
	 * otherwise tiers with a failing step are "failed" and every other unfinished tier "cancelled".
	 */
	finish(result: {exitCode: number; interrupted: boolean}): BuildEvent[] {
		const events: BuildEvent[] = [];
		this.parser.end(update => events.push(...this.apply(update)));
		const time = this.now();
		if (result.exitCode === 0) {
			for (const id of this.order) {
				const track = this.tiers.get(id)!;
				if (track.phase === 'queued' || track.phase === 'building') {
					events.push(this.settle(id, time));
				}

				if (this.push && !isFinalPhase(track.phase, true)) {
					track.phase = 'pushed';
					events.push({type: 'pushed', time, tier: id});
				}
			}

			return events;
		}

		const failures = this.failures();
		const failed = new Set(failures.map(failure => failure.tier));
		for (const failure of failures) {
			const track = this.tiers.get(failure.tier)!;
			if (!isFinalPhase(track.phase, this.push)) {
				track.phase = 'failed';
				events.push({type: 'failed', time, tier: failure.tier, reason: failure.reason, logTail: failure.logTail});
			}
		}

		const first = failures[0]?.tier;
		for (const id of this.order) {
			const track = this.tiers.get(id)!;
			if (isFinalPhase(track.phase, this.push)) {
				continue;
			}

			const failedAncestor = this.ancestors(id).find(ancestor => failed.has(ancestor));
			const reason = result.interrupted
				? 'interrupted'
				: failedAncestor
					? `not built: ${failedAncestor} failed`
					: first
						? `stopped: ${first} failed`
						: this.errorLines().some(line => /cancel(l)?ed/i.test(line))
							? 'bake was cancelled'
							: 'stopped: bake failed';
			const was = track.phase;
			track.phase = 'cancelled';
			const note = was === 'built' || was === 'cached' ? ` (${was}, not pushed)` : was === 'pushing' ? ' (push not finished)' : '';
			events.push({type: 'cancelled', time, tier: id, reason: `${reason}${note}`});
		}

		return events;
	}

	private ancestors(id: string): string[] {
		const list: string[] = [];
		for (let parent = this.parents.get(id) ?? null; parent !== null && !list.includes(parent); parent = this.parents.get(parent) ?? null) {
			list.push(parent);
		}

		return list;
	}

	private apply(update: ProgressUpdate): BuildEvent[] {
		switch (update.type) {
			case 'text': {
				this.text = appendBounded(this.text, [update.line], 50);
				return update.line.startsWith('WARNING:') ? [{type: 'warning', time: this.now(), message: update.line.slice('WARNING:'.length).trim()}] : [];
			}

			case 'warning': {
				return [{type: 'warning', time: this.now(), message: update.vertex?.owner ? `${update.vertex.owner}: ${update.message}` : update.message}];
			}

			case 'log': {
				return update.vertex.owner === null ? [] : [{type: 'log', time: this.now(), tier: update.vertex.owner, line: update.line}];
			}

			case 'vertex': {
				return [...this.requeue(update.vertex, update.previousOwner), ...this.onVertex(update.vertex)];
			}

			case 'status': {
				return this.onStatus(update.vertex, update.status);
			}
		}
	}

	/** cached when every own step came from the cache, built otherwise. */
	private settle(id: string, time: number): BuildEvent {
		const track = this.tiers.get(id)!;
		const steps = this.parser.allVertices().filter(vertex => vertex.owner === id && vertex.kind === 'step');
		const kind = steps.every(vertex => vertex.cached) ? 'cached' : 'built';
		track.phase = kind;
		track.shown = kind;
		return {type: kind, time, tier: id};
	}

	/**
	 * A vertex first seen under a descendant's prefix moved to its real owner: if that made the
	 * descendant look busy while it has nothing of its own running, it goes back to queued.
	 */
	private requeue(vertex: Vertex, previousOwner: string | null): BuildEvent[] {
		const track = previousOwner === null ? undefined : this.tiers.get(previousOwner);
		if (previousOwner === null || previousOwner === vertex.owner || track?.phase !== 'building') {
			return [];
		}

		const busy = this.parser.allVertices().some(other => other.owner === previousOwner && other.started !== null && other.completed === null && activeKinds.has(other.kind));
		if (busy) {
			return [];
		}

		track.phase = 'queued';
		track.shown = '';
		return [{type: 'queued', time: this.now(), tier: previousOwner}];
	}

	private onVertex(vertex: Vertex): BuildEvent[] {
		const events: BuildEvent[] = [];
		if (vertex.kind === 'cache-import' && vertex.error && !this.warned.has(vertex.digest)) {
			this.warned.add(vertex.digest);
			events.push({type: 'warning', time: this.now(), message: `${vertex.name} failed (ignored): ${vertex.error}`});
		}

		const id = vertex.owner;
		const track = id === null ? undefined : this.tiers.get(id);
		if (id === null || !track || isFinalPhase(track.phase, this.push) || vertex.error !== null) {
			return events;
		}

		const time = this.now();
		switch (vertex.kind) {
			case 'step':
			case 'from':
			case 'context': {
				if ((track.phase === 'queued' || track.phase === 'building') && vertex.started && !vertex.completed) {
					events.push(...this.building(id, vertex));
				}

				break;
			}

			case 'export': {
				if (vertex.completed) {
					if (track.phase === 'queued' || track.phase === 'building') {
						events.push(this.settle(id, time));
					}

					if (this.push && track.exportPush && track.phase !== 'pushed') {
						track.phase = 'pushed';
						events.push({type: 'pushed', time, tier: id});
					}
				} else if (vertex.started && track.phase === 'building') {
					// Only a tier that ran steps shows its export; a fully cached one goes straight to cached.
					events.push(...this.building(id, vertex));
				}

				break;
			}

			case 'push': {
				if (!this.push) {
					break;
				}

				if (track.phase === 'queued' || track.phase === 'building') {
					events.push(this.settle(id, time));
				}

				const pushes = this.parser.allVertices().filter(other => other.owner === id && other.kind === 'push');
				if (pushes.every(other => other.completed && !other.error)) {
					track.phase = 'pushed';
					events.push({type: 'pushed', time, tier: id});
				} else if (vertex.started && track.phase !== 'pushing') {
					track.phase = 'pushing';
					track.shown = 'pushing';
					events.push({type: 'pushing', time, tier: id, bytes: null});
				}

				break;
			}

			default: {
				break;
			}
		}

		return events;
	}

	private onStatus(vertex: Vertex, status: VertexStatus): BuildEvent[] {
		const id = vertex.owner;
		const track = id === null ? undefined : this.tiers.get(id);
		if (id === null || !track || isFinalPhase(track.phase, this.push)) {
			return [];
		}

		const time = this.now();
		if (this.push && vertex.kind === 'export' && /^pushing (layers|manifest)/.test(status.id)) {
			const events: BuildEvent[] = [];
			track.exportPush = true;
			if (track.phase === 'queued' || track.phase === 'building') {
				events.push(this.settle(id, time));
			}

			if (track.phase !== 'pushing') {
				track.phase = 'pushing';
				track.shown = 'pushing';
				events.push({type: 'pushing', time, tier: id, bytes: null});
			}

			return events;
		}

		if (vertex.kind === 'push' && track.phase === 'pushing') {
			const bytes = this.bytes(this.parser.allVertices().filter(other => other.owner === id && other.kind === 'push'));
			const shown = `pushing ${bytes ? percent(bytes) : ''}`;
			if (bytes && shown !== track.shown) {
				track.shown = shown;
				return [{type: 'pushing', time, tier: id, bytes}];
			}

			return [];
		}

		if ((vertex.kind === 'step' || vertex.kind === 'from' || vertex.kind === 'context') && track.phase === 'building' && vertex.started && !vertex.completed) {
			return this.building(id, vertex);
		}

		return [];
	}

	/** A building event for the step running now, only when what it says changed. */
	private building(id: string, vertex: Vertex): BuildEvent[] {
		const track = this.tiers.get(id)!;
		const bytes = this.bytes([vertex]);
		const shown = `building ${vertex.digest} ${bytes ? percent(bytes) : ''}`;
		if (shown === track.shown) {
			return [];
		}

		track.phase = 'building';
		track.shown = shown;
		return [{type: 'building', time: this.now(), tier: id, step: vertex.instruction ?? vertex.name, index: vertex.index, total: vertex.total, bytes}];
	}

	/** Bytes moved by the statuses of some vertices that know their size. */
	private bytes(vertices: Vertex[]): ByteProgress | null {
		let current = 0;
		let total = 0;
		for (const vertex of vertices) {
			for (const status of this.parser.statusesOf(vertex.digest)) {
				if (status.total !== null) {
					current += status.current;
					total += status.total;
				}
			}
		}

		return total > 0 ? {current, total} : null;
	}
}

const percent = (bytes: ByteProgress) => `${Math.floor((100 * bytes.current) / bytes.total)}%`;
