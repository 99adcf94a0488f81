package instancehub

// DummyHash is the hash checked for unknown accounts, for the tests.
const DummyHash = dummyHash
