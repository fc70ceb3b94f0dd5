import {mkdir, readdir, rename, rm, stat, writeFile, lstat} from 'node:fs/promises';
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

/**
 * Writes a set of generated files as one directory, atomically: everything goes to a temporary
 * sibling first and is swapped in with renames, so a failure never leaves half-written output and
 * an earlier output stays untouched until the new one is complete. A directory that stackwiz did
 * not write (no plan file in it) is never replaced.
 */
export async function writeOutputDirectory(outDirectory: string, files: Map<string, string>): Promise<void> {
	const target = path.resolve(outDirectory);
	if (await exists(target)) {
		const info = await stat(target).catch(() => undefined);
		const entries = info?.isDirectory() ? await readdir(target) : ['?'];
		if (entries.length > 0 && !entries.includes(planFileName)) {
			throw new UserError(`${outDirectory} exists and was not written by stackwiz; refusing to replace it.`, 'Choose a new or empty directory with --out.');
		}
	}

	await mkdir(path.dirname(target), {recursive: true});
	const suffix = `${process.pid}-${Date.now().toString(36)}`;
	const staging = `${target}.tmp-${suffix}`;
	const previous = `${target}.old-${suffix}`;
	try {
		for (const [relative, content] of files) {
			const destination = path.resolve(staging, relative);
			if (!destination.startsWith(`${staging}${path.sep}`)) {
				throw new Error(`generated path escapes the output directory: ${relative}`);
			}

			await mkdir(path.dirname(destination), {recursive: true});
			await writeFile(destination, content, {flag: 'wx'});
		}

		const hadPrevious = await exists(target);
		if (hadPrevious) {
			await rename(target, previous);
		}

		await rename(staging, target);
		if (hadPrevious) {
			await rm(previous, {recursive: true, force: true});
		}
	} catch (error) {
		await rm(staging, {recursive: true, force: true});
		if (!(await exists(target)) && (await exists(previous))) {
			await rename(previous, target);
		}

		const code = (error as NodeJS.ErrnoException).code;
		if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
			throw new UserError(`cannot write ${outDirectory} (${code}); nothing was changed there.`, code === 'ENOSPC' ? 'Free some disk space and run again.' : 'Choose a writable directory with --out.');
		}

		throw error;
	}
}
