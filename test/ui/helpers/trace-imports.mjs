// Loaded with `node --import` in a child process: records every module URL the program resolves
// and, at exit, prints one marker line per watched package it loaded (to stderr).
import {register} from 'node:module';
import {MessageChannel, receiveMessageOnPort} from 'node:worker_threads';

const {port1, port2} = new MessageChannel();
port1.unref();
register('./trace-imports-hooks.mjs', {parentURL: import.meta.url, data: {port: port2}, transferList: [port2]});

process.on('exit', () => {
	const urls = [];
	for (let message = receiveMessageOnPort(port1); message; message = receiveMessageOnPort(port1)) {
		urls.push(message.message);
	}

	for (const name of ['ink', 'react', 'ink-select-input']) {
		if (urls.some(url => url.includes(`/node_modules/${name}/`))) {
			process.stderr.write(`\nTRACE-LOADED ${name}\n`);
		}
	}
});
