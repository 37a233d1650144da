import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// findBy… and waitFor give up after 1 s by default: a busy 2-core machine can take longer to
// render, and a test must fail for what it shows, not for how fast it shows it
configure({ asyncUtilTimeout: 15_000 });

// jsdom does no SVG layout and has no getBBox, which the pipeline graph (core-components'
// DependencyGraph) measures its nodes with: a node's box is the size its foreignObject declares
if (typeof SVGElement !== 'undefined' && !('getBBox' in SVGElement.prototype)) {
  Object.defineProperty(SVGElement.prototype, 'getBBox', {
    configurable: true,
    value(this: SVGElement) {
      const box = this.querySelector('foreignObject');
      return {
        x: 0,
        y: 0,
        width: Number(box?.getAttribute('width') ?? 0),
        height: Number(box?.getAttribute('height') ?? 0),
      };
    },
  });
}
