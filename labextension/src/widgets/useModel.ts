import { ISignal } from '@lumino/signaling';
import { useEffect, useState } from 'react';

/** Re-render a component whenever `signal` fires. */
export function useSignal(signal: ISignal<unknown, unknown>): void {
  const [, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick(t => t + 1);
    signal.connect(bump);
    return () => {
      signal.disconnect(bump);
    };
  }, [signal]);
}
