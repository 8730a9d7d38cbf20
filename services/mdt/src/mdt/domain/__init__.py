"""Pure rules of the MDT read model."""
