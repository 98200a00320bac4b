// dcmjs ships no type declarations (PEERS.md). Only shared/dicom/* imports it, and narrows what it returns.
declare module 'dcmjs';
