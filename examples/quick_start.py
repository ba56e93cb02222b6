from routilux import Flow, Routine
from routilux.activation_policies import immediate_policy
from routilux.runtime import Runtime
from routilux.monitoring.flow_registry import FlowRegistry

class DataSource(Routine):
    """Generates data for processing"""

    def __init__(self):
        super().__init__()
        self.trigger = self.define_slot("trigger")
        self.output = self.define_event("output", ["data"])

        def logic(trigger_data, policy_message, job_state):
            # Process input data
            data = trigger_data[0].get("data", "default") if trigger_data else "default"
            # Emit result (runtime is auto-detected)
            self.emit("output", data=data)

        self.set_logic(logic)
        self.set_activation_policy(immediate_policy())

class DataProcessor(Routine):
    """Processes incoming data"""

    def __init__(self):
        super().__init__()
        self.input = self.define_slot("input")
        self.output = self.define_event("output", ["result"])

        def logic(input_data, policy_message, job_state):
            # Extract data from slot
            if input_data:
                value = input_data[0].get("data", input_data[0])
            else:
                value = ""

            # Process and emit
            processed = f"Processed: {value}"
            self.emit("output", result=processed)

        self.set_logic(logic)
        self.set_activation_policy(immediate_policy())

# Create and configure flow
flow = Flow(flow_id="data_pipeline")
source = DataSource()
processor = DataProcessor()

flow.add_routine(source, "source")
flow.add_routine(processor, "processor")
flow.connect("source", "output", "processor", "input")

# Register flow in FlowRegistry
registry = FlowRegistry.get_instance()
registry.register_by_name("data_pipeline", flow)

# Execute using Runtime
runtime = Runtime(thread_pool_size=5)
job_state = runtime.exec("data_pipeline", entry_params={"data": "Hello"})

# Wait for completion
runtime.wait_until_all_jobs_finished(timeout=5.0)

print(f"Status: {job_state.status}")
runtime.shutdown(wait=True)
