"""The demo's own throwaway servers and the runbook incidents staged on them."""
