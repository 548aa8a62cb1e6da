"""Tests of the bundled reasoning tasks and the BBH/GSM8K loaders."""
