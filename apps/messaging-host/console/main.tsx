// Entry of the console bundle (scripts/build-console.mjs): mounts the app.
import { render } from 'preact';
import { App } from './app';
import './console.css';

render(<App />, document.getElementById('app')!);
