import {execFileSync} from 'node:child_process';
import {mkdtemp, readdir, readFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {describe, expect, test} from 'vitest';
import {runCli} from '../helpers/run-cli.js';

type Printed = {group: {default: {targets: string[]}}; target: Record<string, {tags?: string[]; contexts?: Record<string, string>; dockerfile?: string}>};

describe('docker buildx bake --print accepts what stackwiz writes', () => {
	test('every shipped recipe: all tiers in the default group, tags resolved, parents linked', async () => {
		for (const recipe of await readdir('recipes')) {
			const out = path.join(await mkdtemp(path.join(tmpdir(), 'stackwiz-print-')), 'out');
			expect(runCli(['--non-interactive', path.join('recipes', recipe), '--dry-run', '--out', out]).code).toBe(0);
			const printed = JSON.parse(execFileSync('docker', ['buildx', 'bake', '-f', 'docker-bake.json', '--print'], {cwd: out, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']})) as Printed;
			const plan = JSON.parse(await readFile(path.join(out, 'stackwiz-plan.json'), 'utf8')) as {tiers: Array<{id: string; parent: string | null; tag: string}>};
			expect(printed.group.default.targets.sort()).toEqual(plan.tiers.map(tier => tier.id).sort());
			for (const tier of plan.tiers) {
				expect(printed.target[tier.id]?.tags).toEqual([tier.tag]);
				expect(printed.target[tier.id]?.contexts).toEqual(tier.parent ? {parent: `target:${tier.parent}`} : undefined);
			}
		}
	});
});
