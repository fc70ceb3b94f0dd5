/**
 * "Will this image start here?": NVIDIA_REQUIRE_* evaluated the way the NVIDIA Container Toolkit does.
 *
 * Two programs decide it at `docker run --gpus ...`:
 * - the toolkit hook (nvidia-container-toolkit, internal/config/image/cuda_image.go) collects the
 *   requirements: every NVIDIA_REQUIRE_* variable except NVIDIA_REQUIRE_JETPACK*, plus `cuda>=MAJOR.MINOR`
 *   from CUDA_VERSION for a "legacy" image that sets CUDA_VERSION but no NVIDIA_REQUIRE_CUDA; none at all
 *   when NVIDIA_DISABLE_REQUIRE parses as true (Go strconv.ParseBool);
 * - nvidia-container-cli (libnvidia-container, src/cli/dsl.c and src/cli/configure.c) evaluates each
 *   one, once per visible GPU (a MIG device counts as its parent GPU), or once without a device when
 *   none is visible. Space-separated clauses are ORed, comma-separated terms ANDed, evaluated left to
 *   right with short-circuiting; keys are cuda (the CUDA version the driver reports, from
 *   nvmlSystemGetCudaDriverVersion), driver (the NVRM version), arch (the GPU's compute capability) and
 *   brand (the NVML brand name, compared case-insensitively). An unknown key, a malformed term or a
 *   version with anything but digits and dots is an "invalid expression" -- but only if evaluation
 *   reaches it.
 *
 * The functions here port that logic; the messages are nvidia-container-cli's own.
 */
import {compareDotted, majorMinor} from './versions.js';

export type DslOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** dsl.c's operator table, in its order: the first whose text starts with the operator run wins. */
const dslOperators: DslOperator[] = ['=', '!=', '<', '<=', '>', '>='];

const dslKeys = ['cuda', 'driver', 'arch', 'brand'] as const;
export type DslKey = (typeof dslKeys)[number];

/** One GPU as nvidia-container-cli sees it. */
export type RequireDevice = {
	/** For messages: "NVIDIA A100-SXM4-80GB". */
	name: string;
	/** Compute capability, "8.0" (nvmlDeviceGetCudaComputeCapability as "%u.%u"); undefined when stackwiz could not learn it. */
	arch?: string;
	/** The brand string libnvidia-container compares ("Tesla", "Nvidia", "GeForce", ...); undefined when unknown. */
	brand?: string;
};

/** The host facts the requirement check reads. */
export type RequireHost = {
	/** NVRM driver version, "550.54.15"; undefined when the host has no NVIDIA driver. */
	driver?: string;
	/** The CUDA version the driver reports ("12.4"); undefined when unknown. */
	cuda?: string;
	/** Visible GPUs; empty when none is visible (arch and brand terms then pass, as in configure.c). */
	devices: RequireDevice[];
};

type Truth = boolean | 'invalid' | 'unknown';

const isDigitOrDot = (text: string) => /^[0-9.]*$/.test(text);
const uintmaxMax = (1n << 64n) - 1n;

/** strtoumax from `index`: the number and where it stopped; undefined when no digit was read or it overflowed. */
function readNumber(text: string, index: number): {value: bigint; end: number} | undefined {
	let end = index;
	while (end < text.length && text[end]! >= '0' && text[end]! <= '9') {
		end++;
	}

	if (end === index) {
		return undefined;
	}

	const value = BigInt(text.slice(index, end));
	return value >= uintmaxMax ? undefined : {value, end};
}

function skip(text: string, index: number, characters: string): number {
	let end = index;
	while (end < text.length && characters.includes(text[end]!)) {
		end++;
	}

	return end;
}

/**
 * dsl_compare_version: compares dotted numbers part by part ("12.10" > "12.4", "12.4.0" = "12.4");
 * 'invalid' for anything but digits and dots, as nvidia-container-cli's -1.
 */
export function dslCompareVersion(actual: string, op: DslOperator, expected: string): boolean | 'invalid' {
	if (!isDigitOrDot(actual) || !isDigitOrDot(expected)) {
		return 'invalid';
	}

	let i = 0;
	let j = 0;
	while (i < actual.length && j < expected.length) {
		const left = readNumber(actual, i);
		const right = readNumber(expected, j);
		if (!left || !right) {
			return 'invalid';
		}

		if (left.value !== right.value) {
			switch (op) {
				case '=': {
					return false;
				}

				case '!=': {
					return true;
				}

				case '<':
				case '<=': {
					return left.value < right.value;
				}

				default: {
					return left.value > right.value;
				}
			}
		}

		i = skip(actual, left.end, '.');
		j = skip(expected, right.end, '.');
	}

	const leftRest = skip(actual, i, '.0') < actual.length;
	const rightRest = skip(expected, j, '.0') < expected.length;
	if (op === '!=') {
		return leftRest || rightRest;
	}

	if ((op === '=' || op === '<=' || op === '>=') && !leftRest && !rightRest) {
		return true;
	}

	if (op === '=') {
		return false;
	}

	return op === '<' || op === '<=' ? !leftRest && rightRest : leftRest && !rightRest;
}

const asciiLower = (text: string) => text.replaceAll(/[A-Z]/g, character => character.toLowerCase());

/** dsl_compare_string: only = and != are defined, both case-insensitive (strcasecmp). */
export function dslCompareString(actual: string, op: DslOperator, expected: string): boolean | 'invalid' {
	if (op === '=') {
		return asciiLower(actual) === asciiLower(expected);
	}

	return op === '!=' ? asciiLower(actual) !== asciiLower(expected) : 'invalid';
}

/** One `key op value` term, parsed the way evaluate_rule does; undefined when it is malformed. */
export type DslTerm = {text: string; key: DslKey; op: DslOperator; value: string};

export function parseDslTerm(text: string): DslTerm | undefined {
	const keyEnd = text.search(/[<>=!]/);
	if (keyEnd <= 0) {
		return undefined;
	}

	const runEnd = skip(text, keyEnd, '<>=!');
	const run = text.slice(keyEnd, runEnd);
	// strncmp(run, operator, run length): the first operator whose text starts with the run.
	const op = dslOperators.find(candidate => candidate.startsWith(run));
	const value = text.slice(runEnd);
	const key = dslKeys.find(candidate => candidate === asciiLower(text.slice(0, keyEnd)));
	if (!op || value === '' || !key) {
		return undefined;
	}

	return {text, key, op, value};
}

function evaluateTerm(term: DslTerm, host: RequireHost, device: RequireDevice | undefined): Truth {
	switch (term.key) {
		case 'cuda': {
			return host.cuda === undefined ? 'unknown' : dslCompareVersion(host.cuda, term.op, term.value);
		}

		case 'driver': {
			return host.driver === undefined ? 'unknown' : dslCompareVersion(host.driver, term.op, term.value);
		}

		case 'arch': {
			// configure.c: no visible device, "assume the arch is ok".
			if (!device) {
				return true;
			}

			return device.arch === undefined ? 'unknown' : dslCompareVersion(device.arch, term.op, term.value);
		}

		default: {
			if (!device) {
				return true;
			}

			return device.brand === undefined ? 'unknown' : dslCompareString(device.brand, term.op, term.value);
		}
	}
}

/** A term that decided a clause: false for this host, with the host's value. */
export type TermFailure = {clause: string; term: DslTerm; actual: string | undefined};

type Run = {ok: boolean; invalid?: string; satisfiedBy?: string; failures: TermFailure[]};

/** dsl_evaluate, with every 'unknown' term read as `assume`. */
function runPredicate(predicate: string, host: RequireHost, device: RequireDevice | undefined, assume: boolean): Run {
	let ret = true;
	const failures: TermFailure[] = [];
	for (const clause of predicate.split(' ')) {
		if (clause === '') {
			continue;
		}

		let completed = true;
		for (const text of clause.split(',')) {
			if (text === '') {
				continue;
			}

			const term = parseDslTerm(text);
			const truth = term ? evaluateTerm(term, host, device) : 'invalid';
			if (truth === 'invalid') {
				return {ok: false, invalid: text, failures};
			}

			ret = truth === 'unknown' ? assume : truth;
			if (!ret) {
				failures.push({clause, term: term!, actual: actualValue(term!.key, host, device)});
				completed = false;
				break;
			}
		}

		if (completed) {
			return ret ? {ok: true, satisfiedBy: clause, failures} : {ok: false, failures};
		}
	}

	return {ok: ret, failures};
}

function actualValue(key: DslKey, host: RequireHost, device: RequireDevice | undefined): string | undefined {
	switch (key) {
		case 'cuda': {
			return host.cuda;
		}

		case 'driver': {
			return host.driver;
		}

		case 'arch': {
			return device?.arch;
		}

		default: {
			return device?.brand;
		}
	}
}

/** nvidia-container-cli's "requirement error" text for a failed predicate (the first clause, as dsl.c prints it). */
export function unsatisfiedMessage(predicate: string): string {
	const first = predicate.split(' ')[0] ?? '';
	return first.startsWith('cuda>=')
		? `unsatisfied condition: ${first}, please update your driver to a newer version, or use an earlier cuda container`
		: `unsatisfied condition: ${first}`;
}

export type PredicateResult =
	| {status: 'satisfied'; clause?: string}
	| {status: 'unsatisfied'; message: string; failures: TermFailure[]}
	| {status: 'invalid'; message: 'invalid expression'; term: string}
	| {status: 'unknown'; missing: string[]};

/**
 * One NVIDIA_REQUIRE_* value against one device (or none), as one dsl_evaluate call. Facts stackwiz could
 * not learn make the answer 'unknown' unless the predicate holds or fails either way.
 */
export function evaluatePredicate(predicate: string, host: RequireHost, device?: RequireDevice): PredicateResult {
	const pessimistic = runPredicate(predicate, host, device, false);
	const optimistic = runPredicate(predicate, host, device, true);
	const invalid = pessimistic.invalid ?? optimistic.invalid;
	if (invalid !== undefined) {
		return {status: 'invalid', message: 'invalid expression', term: invalid};
	}

	if (pessimistic.ok) {
		return {status: 'satisfied', ...(pessimistic.satisfiedBy ? {clause: pessimistic.satisfiedBy} : {})};
	}

	if (!optimistic.ok) {
		return {status: 'unsatisfied', message: unsatisfiedMessage(predicate), failures: pessimistic.failures};
	}

	const missing = new Set<string>();
	const keys = new Set(predicate.split(/[ ,]/).map(text => parseDslTerm(text)?.key).filter(Boolean));
	if (keys.has('cuda') && host.cuda === undefined) {
		missing.add('the CUDA version of the driver');
	}

	if (keys.has('driver') && host.driver === undefined) {
		missing.add('the driver version');
	}

	if (keys.has('arch') && device && device.arch === undefined) {
		missing.add(`the compute capability of ${device.name}`);
	}

	if (keys.has('brand') && device && device.brand === undefined) {
		missing.add(`the brand of ${device.name}`);
	}

	return {status: 'unknown', missing: [...missing]};
}

/** Go strconv.ParseBool: true only for 1, t, T, TRUE, true, True; anything unparsable counts as false. */
export function goParseBool(value: string): boolean {
	return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}

/**
 * golang.org/x/mod/semver's MAJOR.MINOR of "v"+version, as the toolkit's parseMajorMinorVersion reads
 * CUDA_VERSION ("12.4.1" -> "12.4", "12" -> "12.0"); undefined where Go's semver rejects it.
 */
export function goSemverMajorMinor(version: string): string | undefined {
	const number = '(0|[1-9][0-9]*)';
	const identifier = '[0-9A-Za-z-]+';
	const match = new RegExp(`^v?${number}(?:\\.${number}(?:\\.${number}(-${identifier}(?:\\.${identifier})*)?(\\+${identifier}(?:\\.${identifier})*)?)?)?$`).exec(version);
	if (!match) {
		return undefined;
	}

	const [, major = '', minor, , prerelease] = match;
	// Numeric prerelease identifiers may not have leading zeros.
	if (prerelease && prerelease.slice(1).split('.').some(part => /^0[0-9]+$/.test(part))) {
		return undefined;
	}

	// The toolkit then parses both parts as uint32.
	if (BigInt(major) > 0xFF_FF_FF_FFn || BigInt(minor ?? '0') > 0xFF_FF_FF_FFn) {
		return undefined;
	}

	return `${major}.${minor ?? '0'}`;
}

/** One requirement the hook passes as `--require=VALUE`. */
export type ImageRequirement = {source: string; value: string};

export type ImageRequirements =
	| {disabled: true; value: string}
	| {disabled: false; requirements: ImageRequirement[]; error?: string};

/** The environment of an image (`Config.Env` of docker image inspect), later entries winning like Go's map. */
export function envFromList(list: string[]): Record<string, string> {
	const env: Record<string, string> = {};
	for (const entry of list) {
		const separator = entry.indexOf('=');
		if (separator > 0) {
			env[entry.slice(0, separator)] = entry.slice(separator + 1);
		}
	}

	return env;
}

/** What the toolkit hook would pass to nvidia-container-cli for an image with this environment. */
export function imageRequirements(env: Record<string, string>): ImageRequirements {
	const disable = env['NVIDIA_DISABLE_REQUIRE'];
	if (disable !== undefined && goParseBool(disable)) {
		return {disabled: true, value: disable};
	}

	const requirements = Object.keys(env)
		.filter(name => name.startsWith('NVIDIA_REQUIRE_') && !name.startsWith('NVIDIA_REQUIRE_JETPACK'))
		.sort()
		.map(name => ({source: name, value: env[name]!}));
	const cudaVersion = env['CUDA_VERSION'] ?? '';
	if (cudaVersion !== '' && (env['NVIDIA_REQUIRE_CUDA'] ?? '') === '') {
		const version = goSemverMajorMinor(cudaVersion.replace(/^v/, ''));
		if (version === undefined) {
			return {disabled: false, requirements, error: 'failed to get version: invalid CUDA version: invalid version string'};
		}

		requirements.push({source: `CUDA_VERSION=${cudaVersion} (legacy image)`, value: `cuda>=${version}`});
	}

	return {disabled: false, requirements};
}

export type StartVerdict =
	| {status: 'runs'; detail: string}
	| {status: 'refused'; message: string; source: string; reasons: string[]}
	| {status: 'unknown'; detail: string}
	| {status: 'no-driver'; detail: string}
	| {status: 'not-checked'; detail: string};

const deviceLabel = (device: RequireDevice | undefined) => (device ? `${device.name}${device.arch ? ` (sm_${device.arch.replace('.', '')})` : ''}` : 'no visible GPU');

/**
 * Whether `docker run --gpus all IMAGE` gets past the toolkit's requirement check on this host, and why not.
 * Requirements are checked in name order per device, the first refusal wins, as in configure.c.
 */
export function checkImageStart(env: Record<string, string>, host: RequireHost): StartVerdict {
	const required = imageRequirements(env);
	if (required.disabled) {
		return {status: 'not-checked', detail: `NVIDIA_DISABLE_REQUIRE=${required.value}: the toolkit skips the requirement check`};
	}

	if (required.error) {
		return {status: 'refused', message: `failed to get requirements: ${required.error}`, source: 'CUDA_VERSION', reasons: [`CUDA_VERSION=${env['CUDA_VERSION'] ?? ''} is not a version the toolkit can read; set NVIDIA_REQUIRE_CUDA instead`]};
	}

	if (host.driver === undefined) {
		return {status: 'no-driver', detail: 'no NVIDIA driver on this host: `docker run --gpus` fails before any requirement is checked; the image can only run without --gpus'};
	}

	if (required.requirements.length === 0) {
		return {status: 'runs', detail: 'the image sets no NVIDIA_REQUIRE_* and no CUDA_VERSION: nothing to check'};
	}

	const devices: Array<RequireDevice | undefined> = host.devices.length > 0 ? host.devices : [undefined];
	const unknown: string[] = [];
	for (const device of devices) {
		for (const requirement of required.requirements) {
			const result = evaluatePredicate(requirement.value, host, device);
			if (result.status === 'invalid') {
				return {status: 'refused', message: 'requirement error: invalid expression', source: requirement.source, reasons: [`${requirement.source}: "${result.term}" is not a term nvidia-container-cli understands (KEY OP VALUE with key cuda, driver, arch or brand; versions of digits and dots)`]};
			}

			if (result.status === 'unsatisfied') {
				return {status: 'refused', message: `requirement error: ${result.message}`, source: requirement.source, reasons: explainFailures(result.failures, host, device)};
			}

			if (result.status === 'unknown') {
				unknown.push(...result.missing.map(what => `${requirement.source} depends on ${what}, which is unknown`));
			}
		}
	}

	if (unknown.length > 0) {
		return {status: 'unknown', detail: [...new Set(unknown)].join('; ')};
	}

	const names = required.requirements.map(requirement => requirement.source).join(', ');
	return {status: 'runs', detail: `${names} satisfied by driver ${host.driver}${host.cuda ? ` (CUDA ${host.cuda})` : ''} on ${devices.map(device => deviceLabel(device)).join(', ')}`};
}

const termsOf = (clause: string) => clause.split(',').filter(Boolean);

/** Turns the failed term of each clause into a few sentences: which fact of this host failed which clauses. */
export function explainFailures(failures: TermFailure[], host: RequireHost, device: RequireDevice | undefined): string[] {
	const lines: string[] = [];
	const byKey = (key: DslKey) => failures.filter(failure => failure.term.key === key);
	for (const failure of byKey('cuda')) {
		lines.push(`${failure.term.text}: this driver (${host.driver ?? 'unknown'}) supports CUDA ${failure.actual ?? 'unknown'}`);
	}

	const brandFailures = byKey('brand');
	const driverFailures = byKey('driver');
	if (driverFailures.length > 0) {
		const ranges = [...new Set(driverFailures.map(failure => termsOf(failure.clause).filter(text => parseDslTerm(text)?.key === 'driver').join(',')))];
		const brand = device?.brand ? ` for brand ${device.brand}` : '';
		lines.push(`clauses${brand} allow only ${ranges.join(' or ')}; this host has driver ${host.driver ?? 'unknown'}`);
	}

	if (brandFailures.length > 0) {
		const brands = [...new Set(brandFailures.map(failure => failure.term.value))];
		const shown = brands.length > 6 ? `${brands.slice(0, 6).join(', ')}, ...` : brands.join(', ');
		lines.push(driverFailures.length > 0
			? `${brandFailures.length} other clause${brandFailures.length === 1 ? '' : 's'} name other brands (${shown})`
			: `clauses name brand ${shown}; ${deviceLabel(device)} reports ${device?.brand ?? 'no brand'}`);
	}

	for (const failure of byKey('arch')) {
		lines.push(`${failure.term.text}: ${deviceLabel(device)} has compute capability ${failure.actual ?? 'unknown'}`);
	}

	return lines;
}

/**
 * The CUDA version a driver branch runs natively: the newest release whose minimum driver it meets
 * ("MAJOR.MINOR"), or undefined below every release. Releases without a known minimum are skipped.
 */
export function nativeCuda(releases: Array<{version: string; min_driver?: string | undefined}>, driver: string): string | undefined {
	const newest = releases
		.filter(release => release.min_driver !== undefined && compareDotted(driver, release.min_driver) >= 0)
		.sort((a, b) => compareDotted(b.version, a.version))[0];
	return newest ? majorMinor(newest.version) : undefined;
}
