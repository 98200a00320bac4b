// dcmjs ships no type declarations (docs/peers.md). Only shared/dicom/* imports it, and narrows what it returns.
declare module 'dcmjs';
