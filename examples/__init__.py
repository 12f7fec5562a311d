"""Jobs to try `lab bench` on (`examples.jobs`): each is a known answer, checked by the tests."""
