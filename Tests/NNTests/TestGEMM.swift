import NN

/// Both GEMM backends: layer tests whose subject multiplies matrices run on each.
let testBackends: [GEMMBackend] = [try! OneDNNGEMM(), OpenBLASGEMM()]

/// The default backend (oneDNN), for tests about something else.
let testGEMM: GEMMBackend = testBackends[0]
