"""Analysis beyond the sections: veracity, claim matching, source independence and tracked trends."""
