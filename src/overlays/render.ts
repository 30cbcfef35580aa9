import type { Component, DistroModel } from '../config/model.js';
import type { RenderedComponent } from './model.js';
import { StrataError } from '../util/errors.js';

// PLACEHOLDER: replaced by the overlay engine (issue 3).
/** Validates every overlay's fields against its type (throws StrataErrors with file:line:col). */
export function checkOverlays(_model: DistroModel): void {
  throw new StrataError('overlays are not implemented yet', { kind: 'build' });
}

/** Applies each component's overlays in memory; all-or-nothing per component. */
export async function renderComponent(_model: DistroModel, _component: Component): Promise<RenderedComponent> {
  throw new StrataError('overlays are not implemented yet', { kind: 'build' });
}

/** Renders the named components (all when `names` is empty), sorted by name. */
export async function renderComponents(_model: DistroModel, _names: string[] = []): Promise<RenderedComponent[]> {
  throw new StrataError('overlays are not implemented yet', { kind: 'build' });
}
