import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// findBy… and waitFor give up after 1 s by default: a busy 2-core machine can take longer to
// render, and a test must fail for what it shows, not for how fast it shows it
configure({ asyncUtilTimeout: 15_000 });
