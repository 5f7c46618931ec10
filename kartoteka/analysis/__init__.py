"""Link analysis and assessment: co-occurrence statistics, timelines."""
