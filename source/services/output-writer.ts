import {lstat, mkdir, mkdtemp, readdir, rename, rm, stat, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {planFileName} from '../core/generate.js';
import {UserError} from '../errors.js';

async function exists(target: string): Promise<boolean> {
	try {
		await lstat(target);
		return true;
	} catch {
		return false;
	}
}

/** Error codes that mean "this place cannot take the files", said to the user instead of a stack. */
const unwritableCodes = new Set(['ENOSPC', 'EDQUOT', 'EACCES', 'EROFS', 'EPERM']);

/** The UserError for a write that failed with one of unwritableCodes, or undefined for any other error. */
export function unwritableError(error: unknown, what: string, unchanged: string): UserError | undefined {
	const code = (error as NodeJS.ErrnoException).code;
	if (!code || !unwritableCodes.has(code)) {
		return undefined;
	}

	const full = code === 'ENOSPC' || code === 'EDQUOT';
	return new UserError(`cannot write ${what} (${code}${full ? ': the disk is full' : ''}); ${unchanged}.`, full ? 'Free some disk space and run again.' : 'Choose a writable directory with --out.');
}

/** The output was not swapped in because the abort signal fired; nothing in it changed. */
export class WriteInterruptedError extends Error {
	constructor(readonly outDirectory: string) {
		super(`interrupted before ${outDirectory} was replaced`);
		this.name = 'WriteInterruptedError';
	}
}

/**
 * Writes a set of generated files as one directory, atomically: everything goes to a fresh temporary
 * sibling first (created by mkdtemp, so no existing file or link there is ever written through) and
 * is swapped in with renames, so a failure or an abort never leaves half-written output and an
 * earlier output stays untouched until the new one is complete. A directory that stackwiz did not
 * write (no plan file in it) is never replaced, and a link at `outDirectory` is replaced, not followed.
 */
export async function writeOutputDirectory(outDirectory: string, files: Map<string, string>, signal?: AbortSignal): Promise<void> {
	const target = path.resolve(outDirectory);
	if (await exists(target)) {
		const info = await stat(target).catch(() => undefined);
		const entries = info?.isDirectory() ? await readdir(target) : ['?'];
		if (entries.length > 0 && !entries.includes(planFileName)) {
			throw new UserError(`${outDirectory} exists and was not written by stackwiz; refusing to replace it.`, 'Choose a new or empty directory with --out.');
		}
	}

	let staging: string | undefined;
	let previous: string | undefined;
	try {
		await mkdir(path.dirname(target), {recursive: true});
		staging = await mkdtemp(`${target}.tmp-`);
		for (const [relative, content] of files) {
			const destination = path.resolve(staging, relative);
			if (!destination.startsWith(`${staging}${path.sep}`) || relative.split(/[\\/]/).includes('..')) {
				throw new Error(`generated path escapes the output directory: ${relative}`);
			}

			await mkdir(path.dirname(destination), {recursive: true});
			await writeFile(destination, content, {flag: 'wx'});
		}

		if (signal?.aborted) {
			throw new WriteInterruptedError(outDirectory);
		}

		if (await exists(target)) {
			previous = `${staging.replace(/\.tmp-([^/\\]*)$/, '.old-$1')}`;
			await rename(target, previous);
		}

		await rename(staging, target);
		staging = undefined;
	} catch (error) {
		if (staging) {
			await rm(staging, {recursive: true, force: true});
		}

		if (previous && !(await exists(target)) && (await exists(previous))) {
			await rename(previous, target);
		}

		throw unwritableError(error, outDirectory, 'nothing was changed there') ?? error;
	}

	if (previous) {
		// The new output is in place; a leftover of the old one is only untidy.
		await rm(previous, {recursive: true, force: true}).catch(() => undefined);
	}
}
