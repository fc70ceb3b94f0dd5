import {createHash} from 'node:crypto';
import type {TierImage} from '../../core/build-events.js';
import {UserError} from '../../errors.js';
import {docker, firstErrorLine} from './docker-cli.js';
import {httpGet} from './http-get.js';

/** A reference split the way the registry v2 API needs it. */
export type ImageReference = {host: string; repository: string; reference: string};

const manifestTypes = [
	'application/vnd.oci.image.index.v1+json',
	'application/vnd.docker.distribution.manifest.list.v2+json',
	'application/vnd.oci.image.manifest.v1+json',
	'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The registry host of a repository prefix: "127.0.0.1:5000/e2e" -> "127.0.0.1:5000", "acme/x" -> Docker Hub. */
export function registryHost(prefix: string): string {
	const first = prefix.split('/')[0] ?? '';
	return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/** Splits "host/repo/name:tag" or "host/repo@sha256:..." into host, repository and tag or digest. */
export function parseReference(reference: string): ImageReference {
	const at = reference.indexOf('@');
	const named = at === -1 ? reference : reference.slice(0, at);
	const slash = named.lastIndexOf('/');
	const colon = named.lastIndexOf(':');
	const hasTag = colon > slash;
	const name = hasTag ? named.slice(0, colon) : named;
	const host = registryHost(name);
	let repository = host === 'docker.io' && !name.startsWith('docker.io/') ? name : name.slice(host.length + 1);
	if (host === 'docker.io' && !repository.includes('/')) {
		repository = `library/${repository}`;
	}

	return {host, repository, reference: at === -1 ? (hasTag ? named.slice(colon + 1) : 'latest') : reference.slice(at + 1)};
}

/** Loopback registries are plain HTTP, as the docker daemon treats them as insecure by default. */
function baseUrl(host: string): string {
	const hostname = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
	const loopback = hostname === 'localhost' || hostname === '::1' || /^127\./.test(hostname);
	return host === 'docker.io' ? 'https://registry-1.docker.io' : `${loopback ? 'http' : 'https'}://${host}`;
}

/**
 * A signal of its own that also aborts when `signal` does: `abort` ends it early, `done` unhooks it
 * from `signal`. Linked by hand rather than with AbortSignal.any (see withDeadline).
 */
export function childSignal(signal: AbortSignal | undefined): {signal: AbortSignal; abort: (reason?: unknown) => void; done: () => void} {
	const controller = new AbortController();
	const onAbort = () => {
		controller.abort(signal?.reason);
	};

	if (signal?.aborted) {
		onAbort();
	} else {
		signal?.addEventListener('abort', onAbort, {once: true});
	}

	return {
		signal: controller.signal,
		abort(reason) {
			controller.abort(reason);
		},
		done() {
			signal?.removeEventListener('abort', onAbort);
		},
	};
}

/**
 * A signal that aborts with `signal` or after `ms` (as a TimeoutError); call `done` when finished.
 * Not `AbortSignal.any([signal, AbortSignal.timeout(ms)])`: on Node 20 the combined signal holds its
 * sources weakly, so the timeout can be garbage-collected and never fire, and a registry that
 * accepts the connection but never answers then hangs the build.
 */
export function withDeadline(signal: AbortSignal | undefined, ms: number): {signal: AbortSignal; done: () => void} {
	const child = childSignal(signal);
	const timer = setTimeout(() => {
		child.abort(new DOMException(`no answer within ${ms} ms`, 'TimeoutError'));
	}, ms);
	return {
		signal: child.signal,
		done() {
			clearTimeout(timer);
			child.done();
		},
	};
}

/** A manifest digest as the registry API and bake's `docker-image://ref@digest` contexts take it. */
export const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** Why a request failed, in a few words: node's error code (ECONNREFUSED, ENOTFOUND, a TLS code) or the deadline. */
function describeRequestError(error: unknown, ms: number): string {
	const failure = error as {name?: string; code?: string; message?: string; cause?: {name?: string}};
	// An abort carries the deadline's TimeoutError as its cause.
	if (failure.name === 'TimeoutError' || failure.cause?.name === 'TimeoutError') {
		return `no answer within ${ms / 1000} s`;
	}

	return failure.code ?? failure.message ?? String(error);
}

/**
 * Checks that the registry answers its v2 API (200, or 401 asking for credentials; both mean it
 * is there). Anything else is a UserError saying how to fix it.
 */
export async function checkRegistry(prefix: string, signal?: AbortSignal, timeoutMs = 10_000): Promise<void> {
	const host = registryHost(prefix);
	let status: number;
	const deadline = withDeadline(signal, timeoutMs);
	try {
		const response = await httpGet(`${baseUrl(host)}/v2/`, {signal: deadline.signal});
		status = response.status;
		response.discard();
	} catch (error) {
		if (signal?.aborted) {
			throw error;
		}

		throw new UserError(`registry ${host} is not reachable (${describeRequestError(error, timeoutMs)}).`, 'Start the registry or fix `registry:` in the recipe, or build without pushing with --no-push.');
	} finally {
		deadline.done();
	}

	if (status !== 200 && status !== 401) {
		throw new UserError(`registry ${host} answered HTTP ${status} at /v2/, so it does not look like a registry.`, 'Fix `registry:` in the recipe, or build without pushing with --no-push.');
	}
}

type Manifest = {
	mediaType?: string;
	manifests?: Array<{digest: string; mediaType?: string; platform?: {os?: string; architecture?: string; variant?: string}; annotations?: Record<string, string>}>;
	layers?: Array<{digest: string; size: number}>;
};

type Fetched = {status: 'found'; raw: string; digest: string} | {status: 'missing'} | {status: 'denied'};

async function fetchManifest(reference: ImageReference, signal?: AbortSignal): Promise<Fetched> {
	const deadline = withDeadline(signal, 20_000);
	try {
		return await fetchManifestUntil(reference, deadline.signal);
	} finally {
		deadline.done();
	}
}

async function fetchManifestUntil(reference: ImageReference, signal: AbortSignal): Promise<Fetched> {
	const url = `${baseUrl(reference.host)}/v2/${reference.repository}/manifests/${reference.reference}`;
	const response = await httpGet(url, {headers: {accept: manifestTypes}, signal});
	if (response.status === 404) {
		response.discard();
		return {status: 'missing'};
	}

	if (response.status !== 200) {
		response.discard();
		return {status: 'denied'};
	}

	const raw = await response.text();
	// The digest is pinned into the bake file; a header that is not a digest is not trusted.
	const header = response.header('docker-content-digest');
	const digest = header && digestPattern.test(header) ? header : `sha256:${createHash('sha256').update(raw).digest('hex')}`;
	return {status: 'found', raw, digest};
}

/** `docker buildx imagetools inspect --raw`: uses the docker credentials, for registries that want a login. */
async function imagetoolsManifest(reference: string, signal?: AbortSignal): Promise<Fetched> {
	if (reference.startsWith('-')) {
		throw new Error(`refusing to pass the reference ${JSON.stringify(reference)} to docker`);
	}

	const result = await docker(['buildx', 'imagetools', 'inspect', '--raw', reference], {signal});
	if (result.exitCode !== 0) {
		const reason = firstErrorLine(result.stderr);
		if (/not found|manifest unknown/i.test(reason)) {
			return {status: 'missing'};
		}

		throw new UserError(`cannot read ${reference} from its registry: ${reason}.`, 'Log in with `docker login` or fix `registry:` in the recipe; --no-reuse skips the registry look-up.');
	}

	return {status: 'found', raw: result.stdout, digest: `sha256:${createHash('sha256').update(result.stdout).digest('hex')}`};
}

async function getManifest(reference: string, signal?: AbortSignal): Promise<Fetched> {
	let fetched: Fetched;
	try {
		fetched = await fetchManifest(parseReference(reference), signal);
	} catch (error) {
		if (signal?.aborted) {
			throw error;
		}

		fetched = {status: 'denied'};
	}

	return fetched.status === 'denied' ? imagetoolsManifest(reference, signal) : fetched;
}

/** The image manifest for linux/amd64 (or the first image manifest) of an index; attestations skipped. */
function pickPlatform(manifest: Manifest, platform = {os: 'linux', architecture: 'amd64'}): string | undefined {
	const images = (manifest.manifests ?? []).filter(entry => entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest' && entry.platform?.os !== 'unknown');
	return (images.find(entry => entry.platform?.os === platform.os && entry.platform.architecture === platform.architecture) ?? images[0])?.digest;
}

/**
 * What the registry holds under a reference: the digest to pin (an index digest stays the index's)
 * and the layers of its linux/amd64 image. Null when the registry does not have it.
 */
export async function inspectImage(reference: string, signal?: AbortSignal): Promise<TierImage | null> {
	const top = await getManifest(reference, signal);
	if (top.status !== 'found') {
		return null;
	}

	let manifest = JSON.parse(top.raw) as Manifest;
	if (manifest.manifests) {
		const picked = pickPlatform(manifest);
		const child = picked && digestPattern.test(picked) ? picked : undefined;
		const name = reference.split('@')[0]!.replace(/:[^:/]+$/, '');
		const fetched = child ? await getManifest(`${name}@${child}`, signal) : undefined;
		manifest = fetched?.status === 'found' ? (JSON.parse(fetched.raw) as Manifest) : {layers: []};
	}

	const layers = (manifest.layers ?? []).map(layer => ({digest: layer.digest, size: layer.size}));
	return {digest: top.digest, layers, size: layers.reduce((sum, layer) => sum + layer.size, 0)};
}

/** An image in the local store (a `--load` build): its size is uncompressed and has no registry digest. */
export async function inspectLocalImage(reference: string, signal?: AbortSignal): Promise<TierImage | null> {
	const result = await docker(['image', 'inspect', '--format', '{{.Size}}', reference], {signal});
	const size = Number(result.stdout.trim());
	return result.exitCode === 0 && Number.isFinite(size) ? {digest: null, layers: null, size} : null;
}
