import semver from 'semver';

/**
 * Turns a dotted version such as "12.4", "22.04" or "3.11.9" into a semver string.
 * Leading zeros ("22.04") are dropped so Ubuntu and driver-style numbers compare numerically.
 */
export function toSemver(version: string): string {
	let converted = semverCache.get(version);
	if (converted === undefined) {
		converted = convertToSemver(version);
		semverCache.set(version, converted);
	}

	return converted;
}

/** Versions repeat across thousands of checks per plan; convert each once. */
const semverCache = new Map<string, string>();
const majorMinorCache = new Map<string, string>();

function convertToSemver(version: string): string {
	const parts = version.split('.').slice(0, 3).map(part => String(Number.parseInt(part, 10)));
	while (parts.length < 3) {
		parts.push('0');
	}

	return parts.join('.');
}

/** The "12.4" of "12.4.1". */
export function majorMinor(version: string): string {
	let line = majorMinorCache.get(version);
	if (line === undefined) {
		const [major = '0', minor = '0'] = version.split('.');
		line = `${Number.parseInt(major, 10)}.${Number.parseInt(minor, 10)}`;
		majorMinorCache.set(version, line);
	}

	return line;
}

export function majorOf(version: string): string {
	return String(Number.parseInt(version.split('.')[0] ?? '0', 10));
}

const ranges = new Map<string, semver.Range | null>();

/** Whether `version` satisfies a semver range written with partial versions (">=12.1", "2.3", "*"). */
export function satisfies(version: string, range: string): boolean {
	// The resolver asks the same few ranges thousands of times per plan; parse each once.
	let parsed = ranges.get(range);
	if (parsed === undefined) {
		parsed = semver.validRange(range) === null ? null : new semver.Range(range);
		ranges.set(range, parsed);
	}

	return parsed?.test(toSemver(version)) ?? false;
}

export function isValidRange(range: string): boolean {
	return semver.validRange(range) !== null;
}

/** Compares dotted numeric versions of any length (NVIDIA drivers: "535.104.05"). */
export function compareDotted(a: string, b: string): number {
	const left = a.split('.').map(part => Number.parseInt(part, 10));
	const right = b.split('.').map(part => Number.parseInt(part, 10));
	for (let index = 0; index < Math.max(left.length, right.length); index++) {
		const difference = (left[index] ?? 0) - (right[index] ?? 0);
		if (difference !== 0) {
			return Math.sign(difference);
		}
	}

	return 0;
}

/** Newest first. */
export function byVersionDescending<T>(pick: (item: T) => string): (a: T, b: T) => number {
	return (a, b) => compareDotted(pick(b), pick(a));
}
