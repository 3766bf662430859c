package jobs

// DepthSQL is the queue depth's query, for the test that reads its plan.
const DepthSQL = depthSQL
