import type {Catalog, CudaVersion, Gpu} from './catalog.js';
import {compareDotted, majorMinor, majorOf} from './versions.js';

/**
 * How a node's driver runs a CUDA release:
 * - native: the driver is at least the release's own minimum;
 * - minor-version: same major, driver at least the major's floor; no PTX JIT, so every GPU needs SASS;
 * - forward: the cuda-compat package on data-center GPUs, for the driver branches NVIDIA lists.
 */
export type CompatLevel = 'native' | 'minor-version' | 'forward';

export type DriverVerdict = {ok: true; level: CompatLevel} | {ok: false; reason: string};

/** `sm_90` for "9.0". */
export const smName = (computeCapability: string) => `sm_${computeCapability.replace('.', '')}`;

export const gpuLabel = (gpu: Gpu) => `${gpu.name} (${smName(gpu.computeCapability)})`;

/** One `brand=X,driver>=A,driver<B` clause of NVIDIA_REQUIRE_CUDA. */
export type RequireClause = {brand?: string; arch?: string; constraints: Array<{key: string; op: string; value: string}>};

/**
 * Parses NVIDIA_REQUIRE_CUDA the way nvidia-container-cli reads it: space-separated clauses are
 * ORed, comma-separated constraints inside one clause are ANDed. The leading `cuda>=X.Y` is a clause too.
 */
export function parseRequireCuda(value: string): RequireClause[] {
	return value.trim().split(/\s+/).filter(Boolean).map(clause => {
		const parsed: RequireClause = {constraints: []};
		for (const part of clause.split(',')) {
			const match = /^([a-z]+)(>=|<=|=|<|>)(.+)$/.exec(part);
			if (!match) {
				continue;
			}

			const [, key = '', op = '', value = ''] = match;
			if (key === 'brand' && op === '=') {
				parsed.brand = value;
			} else if (key === 'arch' && op === '=') {
				parsed.arch = value;
			} else {
				parsed.constraints.push({key, op, value});
			}
		}

		return parsed;
	});
}

export function compareWith(actual: string, op: string, expected: string): boolean {
	const order = compareDotted(actual, expected);
	switch (op) {
		case '>=': {
			return order >= 0;
		}

		case '<=': {
			return order <= 0;
		}

		case '>': {
			return order > 0;
		}

		case '<': {
			return order < 0;
		}

		default: {
			return order === 0;
		}
	}
}

/** The driver branches (470, 535, ...) for which NVIDIA's image of this release allows forward compatibility, per brand. */
function forwardCompatible(cuda: CudaVersion, driver: string, gpu: Gpu): boolean {
	if (!cuda.require_cuda || gpu.segment !== 'datacenter') {
		return false;
	}

	return parseRequireCuda(cuda.require_cuda).some(clause =>
		clause.brand === gpu.brand
		&& clause.constraints.length > 0
		&& clause.constraints.every(({key, op, value}) => key === 'driver' && compareWith(driver, op, value)));
}

/** Which compatibility level lets `driver` run `cuda` on all `gpus`, or why none does. */
export function driverVerdict(catalog: Catalog, cuda: CudaVersion, driver: string | undefined, gpus: Gpu[]): DriverVerdict {
	if (driver === undefined || (cuda.min_driver && compareDotted(driver, cuda.min_driver) >= 0)) {
		return {ok: true, level: 'native'};
	}

	const floor = catalog.cuda.minorCompatDriver.get(majorOf(cuda.version));
	if (floor && compareDotted(driver, floor) >= 0) {
		return {ok: true, level: 'minor-version'};
	}

	if (gpus.length > 0 && gpus.every(gpu => forwardCompatible(cuda, driver, gpu))) {
		return {ok: true, level: 'forward'};
	}

	const minor = floor ? ` (${floor} with minor-version compatibility)` : '';
	const notDatacenter = gpus.filter(gpu => gpu.segment !== 'datacenter');
	const forwardHint = cuda.require_cuda && notDatacenter.length > 0 && notDatacenter.length < gpus.length
		? `; forward compatibility needs data-center GPUs and ${notDatacenter.map(gpu => gpu.name).join(', ')} is not one`
		: '';
	return {ok: false, reason: `CUDA ${cuda.version} needs driver >= ${cuda.min_driver ?? 'an unknown version'}${minor}; nodes have ${driver}${forwardHint}`};
}

/**
 * Whether a list of compiled architectures runs natively (SASS) on a GPU: a cubin for X.y runs on
 * any X.z with z >= y (CUDA binary compatibility), so sm_86 code serves an sm_89 GPU.
 */
export function hasSassFor(archList: string[], computeCapability: string): boolean {
	const [major, minor = 0] = computeCapability.split('.').map(Number);
	return archList.some(arch => {
		const [archMajor, archMinor = 0] = arch.split('.').map(Number);
		return archMajor === major && archMinor <= minor;
	});
}

/** Why the CUDA toolkit cannot target a GPU, or undefined when it can. */
export function archReason(catalog: Catalog, cuda: CudaVersion, gpu: Gpu): string | undefined {
	if (cuda.arches.includes(gpu.computeCapability)) {
		return undefined;
	}

	const supporting = catalog.cuda.versions.filter(version => version.arches.includes(gpu.computeCapability));
	if (supporting.length === 0) {
		return `no CUDA release in the catalog targets ${gpuLabel(gpu)}`;
	}

	const oldest = supporting.at(-1)!;
	const newest = supporting[0]!;
	if (compareDotted(cuda.version, oldest.version) < 0) {
		return `${gpuLabel(gpu)} needs CUDA >= ${majorMinor(oldest.version)}`;
	}

	if (compareDotted(cuda.version, newest.version) > 0) {
		return `${gpuLabel(gpu)} is not supported after CUDA ${majorMinor(newest.version)}`;
	}

	return `CUDA ${cuda.version} cannot target ${gpuLabel(gpu)}`;
}

/**
 * TORCH_CUDA_ARCH_LIST for the selected GPUs: every distinct capability, PTX for the newest so
 * newer GPUs can still JIT it ("7.0;8.0;9.0+PTX").
 */
export function cudaArchList(gpus: Gpu[]): string {
	const capabilities = [...new Set(gpus.map(gpu => gpu.computeCapability))].sort(compareDotted);
	return capabilities.map((capability, index) => (index === capabilities.length - 1 ? `${capability}+PTX` : capability)).join(';');
}
