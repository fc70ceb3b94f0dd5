import {buildHostReport, buildVerifyReport, labelVersions, parseImageInspect, requireHostOf, verifyScript, type HostReport, type ProbeOutput, type VerifyCheck} from '../core/host-report.js';
import {checkImageStart} from '../core/require-cuda.js';
import {exitCodes, UserError} from '../errors.js';
import {imageNotPresent, inspectImage, pullImage, runInImage} from '../services/host/docker-image.js';
import {probeGpus} from '../services/host/probe-host.js';
import {catalogOptions, type Command} from './command.js';
import {catalogOrProblem} from './doctor.js';

/** Why the GPU checks do not run on this host, or undefined when they do. */
function gpuSkipReason(report: HostReport, cpuOnly: boolean): string | undefined {
	if (cpuOnly) {
		return '--cpu was given';
	}

	return report.driverProblem ? `no GPU here (${report.driverProblem})` : undefined;
}

function formatChecks(image: string, mode: string, checks: VerifyCheck[]): string {
	const width = Math.max(...checks.map(check => check.name.length));
	const lines = [`verify ${image} (${mode})`, ...checks.flatMap(check => [
		`${check.status.padEnd(4)}  ${check.name.padEnd(width)}  ${check.detail}`,
		...(check.fix ? [`${' '.repeat(width + 8)}fix: ${check.fix}`] : []),
	])];
	const failed = checks.filter(check => check.status === 'fail').length;
	const skipped = checks.filter(check => check.status === 'skip').length;
	lines.push('', `${checks.length - failed - skipped} passed, ${failed} failed, ${skipped} skipped`);
	return lines.join('\n');
}

function dockerProblem(probe: ProbeOutput, image: string): UserError {
	if (probe.status === 'missing') {
		return new UserError('verify needs the docker CLI, which is not on PATH.', 'Install Docker Engine; `stackwiz doctor` lists what else is missing.');
	}

	const message = `${probe.stderr}\n${probe.stdout}`.split('\n').map(line => line.trim()).find(Boolean) ?? `exit ${probe.exitCode ?? '?'}`;
	return /Cannot connect to the Docker daemon|permission denied/i.test(message)
		? new UserError(`verify cannot reach the Docker daemon: ${message}`, 'Start it (`sudo systemctl start docker`) or run `stackwiz doctor`.')
		: new UserError(`image ${image} is not available: ${message}`, 'Check the name and tag; build it (`docker buildx bake --load`) or pull it first.');
}

/**
 * `stackwiz verify IMAGE`: reads the image's labels and environment, evaluates its NVIDIA_REQUIRE_CUDA
 * against this host, and runs checks inside it: nvidia-smi and the framework on the GPU where there is one,
 * the CPU-side checks everywhere. Exit 0 when nothing failed, 1 when a check failed.
 */
export const verifyCommand: Command = {
	options: {...catalogOptions, json: {type: 'boolean'}, cpu: {type: 'boolean'}},
	async run(values, positionals, io, signal) {
		const [image, ...extra] = positionals;
		if (!image || extra.length > 0) {
			throw new UserError(image ? `verify takes one image, got ${positionals.length}.` : 'verify needs an image.', 'Run `stackwiz verify IMAGE`, e.g. `stackwiz verify registry.example.com/ml/stackwiz/apps:TAG`.');
		}

		// The reference goes to `docker run` as an argument: one starting with "-" would be an option.
		if (!/^[A-Za-z0-9][A-Za-z0-9._/:@-]*$/.test(image)) {
			throw new UserError(`"${image}" is not an image reference.`, 'Pass a reference like registry.example.com/ml/stackwiz/apps:TAG or an image id.');
		}

		let inspected = await inspectImage(image, {signal});
		if (signal.aborted) {
			return exitCodes.interrupted;
		}

		if (imageNotPresent(inspected)) {
			io.stderr(`pulling ${image}\n`);
			const pulled = await pullImage(image, {signal});
			if (signal.aborted) {
				return exitCodes.interrupted;
			}

			if (pulled.status !== 'ok') {
				throw dockerProblem(pulled, image);
			}

			inspected = await inspectImage(image, {signal});
		}

		const inspect = inspected.status === 'ok' ? parseImageInspect(inspected.stdout) : undefined;
		if (!inspect) {
			throw dockerProblem(inspected, image);
		}

		const [{catalog}, gpuProbes] = await Promise.all([catalogOrProblem(values), probeGpus({signal})]);
		const host = buildHostReport(gpuProbes, catalog);
		const skipReason = gpuSkipReason(host, Boolean(values['cpu']));
		const gpu = skipReason === undefined;
		const ids = [...labelVersions(inspect.labels).keys()];
		io.stderr(`checking ${image} ${gpu ? 'with --gpus all' : `on the CPU (${skipReason})`}\n`);
		const [nvidiaSmi, python, osRelease] = await Promise.all([
			gpu ? runInImage({image, gpus: true, entrypoint: 'nvidia-smi', args: ['--query-gpu=name,driver_version', '--format=csv,noheader']}, {signal}) : Promise.resolve(undefined),
			runInImage({image, gpus: gpu, entrypoint: 'python3', args: ['-c', verifyScript, JSON.stringify(ids), gpu ? 'gpu' : 'cpu']}, {signal}),
			runInImage({image, gpus: false, entrypoint: 'cat', args: ['/etc/os-release']}, {signal}),
		]);
		if (signal.aborted) {
			return exitCodes.interrupted;
		}

		const checks = buildVerifyReport({
			image,
			inspect,
			host,
			gpu,
			...(skipReason ? {skipReason} : {}),
			...(nvidiaSmi ? {nvidiaSmi} : {}),
			python,
			osRelease,
			start: checkImageStart(inspect.env, requireHostOf(host)),
		});
		const mode = gpu ? `GPU: ${host.gpus.map(entry => entry.name).join(', ')}` : `CPU only: ${skipReason}`;
		io.stdout(values['json']
			? `${JSON.stringify({image, mode: gpu ? 'gpu' : 'cpu', ...(skipReason ? {skipped: skipReason} : {}), host: {driver: host.driver, cuda: host.cudaDriver ?? host.cudaNative, gpus: host.gpus.map(entry => ({name: entry.name, computeCapability: entry.computeCapability}))}, checks}, null, 2)}\n`
			: `${formatChecks(image, mode, checks)}\n`);
		// exitCodes has no verify-specific entry; 1 is "the thing you asked for does not work" for build and verify alike.
		return checks.some(check => check.status === 'fail') ? exitCodes.buildFailed : exitCodes.ok;
	},
};
