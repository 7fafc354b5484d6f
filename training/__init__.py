"""Turn annotations into models: configs, training, evaluation, tracking, comparison, prediction."""
